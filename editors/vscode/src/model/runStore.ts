/**
 * What the extension knows about runs, their proposed changes and their pending questions:
 * loaded with devfactory/runs/list, changes/list and hitl/list, then kept current by
 * devfactory/runChanged, changeProposed, question and event notifications. The Runs view, the
 * CodeLenses and the status bar all read from here; nothing here imports vscode.
 */
import { Emitter, type Event as Listenable } from 'vscode-languageserver-protocol';
import type { DaemonApi } from './daemonApi';
import {
  type Change,
  ChangeStatus,
  type Event,
  EventType,
  type HitlRequest,
  HitlStatus,
  Requests,
  type Run,
  RunStatus,
  TERMINAL_RUN_STATUSES,
} from '../generated/protocol';

/** Display order of the status groups in the Runs view: what needs the user first. */
export const STATUS_ORDER: readonly RunStatus[] = [
  RunStatus.WAITING_FOR_USER,
  RunStatus.RUNNING,
  RunStatus.PAUSED,
  RunStatus.QUEUED,
  RunStatus.DRAFT,
  RunStatus.COMPLETED,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
];

const ACTIVE = new Set<RunStatus>([RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.WAITING_FOR_USER, RunStatus.QUEUED]);

/** Events after which a run's changes are re-read (their status or hunks moved). */
const CHANGE_EVENTS = new Set<EventType>([
  EventType.CHANGE_APPROVED,
  EventType.CHANGE_REJECTED,
  EventType.CHANGE_APPLIED,
  EventType.CHANGE_CONFLICT,
  EventType.CHANGE_REVERTED,
]);

export interface RunGroup {
  status: RunStatus;
  runs: Run[];
}

export class RunStore {
  private readonly runs = new Map<number, Run>();
  private readonly changes = new Map<number, Change>();
  private readonly questions = new Map<number, HitlRequest>();
  private readonly changed = new Emitter<void>();
  /** Fires after any update (views refresh from it). */
  readonly onDidChange: Listenable<void> = this.changed.event;
  private readonly ended = new Emitter<Run>();
  /** Fires when a run known to be unfinished reaches a terminal status (not on a reload). */
  readonly onDidEndRun: Listenable<Run> = this.ended.event;

  constructor(
    private readonly api: DaemonApi,
    private readonly onError: (what: string, error: unknown) => void = () => undefined,
  ) {}

  /** Reload everything (on start and after the daemon restarts). */
  async refresh(): Promise<void> {
    const [runs, changes, questions] = await Promise.allSettled([
      this.api.request(Requests.RUNS_LIST, { limit: 200 }),
      this.api.request(Requests.CHANGES_LIST, {}),
      this.api.request(Requests.HITL_LIST, {}),
    ]);
    if (runs.status === 'fulfilled') replaceAll(this.runs, runs.value.runs);
    else this.onError('runs', runs.reason);
    if (changes.status === 'fulfilled') replaceAll(this.changes, changes.value.changes);
    else this.onError('changes', changes.reason);
    if (questions.status === 'fulfilled') replaceAll(this.questions, questions.value.requests);
    else this.onError('questions', questions.reason);
    this.changed.fire();
  }

  applyRun(run: Run): void {
    const before = this.runs.get(run.id)?.status;
    this.runs.set(run.id, run);
    // A run that ends (cancelled, failed) has its questions cancelled by the daemon, which
    // sends nothing about them: they would wait in the view and the status bar for good.
    if (TERMINAL_RUN_STATUSES.includes(run.status)) this.questionsOf(run.id).forEach((q) => this.questions.delete(q.id));
    this.changed.fire();
    if (before && !TERMINAL_RUN_STATUSES.includes(before) && TERMINAL_RUN_STATUSES.includes(run.status)) this.ended.fire(run);
  }

  applyChange(change: Change): void {
    this.changes.set(change.id, change);
    this.changed.fire();
  }

  applyChanges(changes: readonly Change[]): void {
    for (const change of changes) this.changes.set(change.id, change);
    this.changed.fire();
  }

  applyQuestion(request: HitlRequest): void {
    if (request.status === HitlStatus.PENDING) this.questions.set(request.id, request);
    else this.questions.delete(request.id);
    this.changed.fire();
  }

  /** Keep changes and questions current from the event stream. */
  async applyEvent(event: Event): Promise<void> {
    if (event.runId === null) return;
    if (CHANGE_EVENTS.has(event.type)) {
      await this.reloadChanges(event.runId);
    } else if (event.type === EventType.RESUMED) {
      const requestId = event.payload['requestId'];
      if (typeof requestId === 'number' && this.questions.delete(requestId)) this.changed.fire();
    } else if (event.type === EventType.PAUSED_FOR_INPUT) {
      const requestId = event.payload['requestId'];
      if (typeof requestId === 'number' && !this.questions.has(requestId)) await this.reloadQuestions(event.runId);
    }
  }

  async reloadChanges(runId: number): Promise<void> {
    try {
      const { changes } = await this.api.request(Requests.CHANGES_LIST, { runId });
      this.applyChanges(changes);
    } catch (error) {
      this.onError('changes', error);
    }
  }

  private async reloadQuestions(runId: number): Promise<void> {
    try {
      const { requests } = await this.api.request(Requests.HITL_LIST, { runId });
      for (const request of requests) this.questions.set(request.id, request);
      this.changed.fire();
    } catch (error) {
      this.onError('questions', error);
    }
  }

  run(id: number): Run | undefined {
    return this.runs.get(id);
  }

  change(id: number): Change | undefined {
    return this.changes.get(id);
  }

  question(id: number): HitlRequest | undefined {
    return this.questions.get(id);
  }

  /** Non-empty status groups in display order, newest run first inside each. */
  groups(): RunGroup[] {
    return STATUS_ORDER.map((status) => ({
      status,
      runs: [...this.runs.values()].filter((r) => r.status === status).sort((a, b) => b.id - a.id),
    })).filter((g) => g.runs.length > 0);
  }

  activeRuns(): Run[] {
    return [...this.runs.values()].filter((r) => ACTIVE.has(r.status)).sort((a, b) => b.id - a.id);
  }

  allRuns(): Run[] {
    return [...this.runs.values()].sort((a, b) => b.id - a.id);
  }

  changesOf(runId: number): Change[] {
    return [...this.changes.values()].filter((c) => c.runId === runId).sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Proposed changes to one workspace-relative path (what CodeLenses show). */
  proposedAt(path: string): Change[] {
    return [...this.changes.values()].filter((c) => c.path === path && c.status === ChangeStatus.PROPOSED);
  }

  /** A run's changes still to decide (what Approve All and Reject All decide). */
  proposedOf(runId: number): Change[] {
    return this.changesOf(runId).filter((c) => c.status === ChangeStatus.PROPOSED);
  }

  hasProposed(runId: number): boolean {
    return this.proposedOf(runId).length > 0;
  }

  /** Runs with changes still to decide, newest first: the only ones Approve / Reject All can pick. */
  runsWithProposed(): Run[] {
    return this.allRuns().filter((r) => this.hasProposed(r.id));
  }

  questionsOf(runId: number): HitlRequest[] {
    return [...this.questions.values()].filter((q) => q.runId === runId).sort((a, b) => a.id - b.id);
  }

  pendingQuestions(): HitlRequest[] {
    return [...this.questions.values()].sort((a, b) => a.id - b.id);
  }

  dispose(): void {
    this.changed.dispose();
    this.ended.dispose();
  }
}

function replaceAll<T extends { id: number }>(map: Map<number, T>, items: readonly T[]): void {
  map.clear();
  for (const item of items) map.set(item.id, item);
}
