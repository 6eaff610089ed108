/**
 * What the extension knows about initiatives: each one's tree (phases, tasks, the proposals
 * waiting), loaded with devfactory/initiatives/list and initiatives/get and reloaded whenever
 * devfactory/initiativeChanged names it. The Initiatives view reads from here; nothing here
 * imports vscode.
 */
import { Emitter, type Event as Listenable } from 'vscode-languageserver-protocol';
import type { DaemonApi } from './daemonApi';
import {
  type Initiative,
  type InitiativeTree,
  type Phase,
  type Proposal,
  Requests,
  type Task,
  TaskStatus,
} from '../generated/protocol';

export class InitiativeStore {
  private readonly trees = new Map<number, InitiativeTree>();
  /** Per initiative, how many reloads were asked for: only the latest one's answer is kept. */
  private readonly generations = new Map<number, number>();
  /** Per initiative, the latest reload: an older one answers with its result. */
  private readonly latest = new Map<number, Promise<InitiativeTree | undefined>>();
  private readonly changed = new Emitter<void>();
  /** Fires after any update (the view refreshes from it). */
  readonly onDidChange: Listenable<void> = this.changed.event;

  constructor(
    private readonly api: DaemonApi,
    private readonly onError: (what: string, error: unknown) => void = () => undefined,
  ) {}

  /** Reload every initiative (on start and after the daemon restarts). */
  async refresh(): Promise<void> {
    try {
      const { initiatives } = await this.api.request(Requests.INITIATIVES_LIST, { limit: 50 });
      const known = new Set(initiatives.map((i) => i.id));
      for (const id of this.trees.keys()) if (!known.has(id)) this.trees.delete(id);
      await Promise.all(initiatives.map((i) => this.reload(i.id)));
    } catch (error) {
      this.onError('initiatives', error);
    }
    this.changed.fire();
  }

  /**
   * Read one initiative's tree again (its notification carries no proposals). When it
   * resolves, the store holds a tree read after the call: a reload overtaken by a newer one
   * (a notification's, while a command's was in flight) waits for that one's answer instead
   * of returning the tree from before.
   */
  reload(initiativeId: number): Promise<InitiativeTree | undefined> {
    const generation = (this.generations.get(initiativeId) ?? 0) + 1;
    this.generations.set(initiativeId, generation);
    const loading = this.load(initiativeId, generation);
    this.latest.set(initiativeId, loading);
    return loading;
  }

  private async load(initiativeId: number, generation: number): Promise<InitiativeTree | undefined> {
    try {
      const tree = await this.api.request(Requests.INITIATIVES_GET, { initiativeId });
      if (this.generations.get(initiativeId) !== generation) return await this.latest.get(initiativeId);
      this.trees.set(initiativeId, tree);
      this.changed.fire();
      return tree;
    } catch (error) {
      this.onError(`initiative ${initiativeId}`, error);
      return undefined;
    }
  }

  /** Newest first. */
  initiatives(): Initiative[] {
    return [...this.trees.values()].map((t) => t.initiative).sort((a, b) => b.id - a.id);
  }

  tree(initiativeId: number): InitiativeTree | undefined {
    return this.trees.get(initiativeId);
  }

  phase(phaseId: number): Phase | undefined {
    return this.find((t) => t.phases.find((p) => p.id === phaseId));
  }

  task(taskId: number): Task | undefined {
    return this.find((t) => t.tasks.find((task) => task.id === taskId));
  }

  proposal(proposalId: number): Proposal | undefined {
    return this.find((t) => t.proposals.find((p) => p.id === proposalId));
  }

  tasksOf(phaseId: number): Task[] {
    const phase = this.phase(phaseId);
    return phase ? (this.trees.get(phase.initiativeId)?.tasks.filter((t) => t.phaseId === phaseId) ?? []) : [];
  }

  /** A checkpoint task that waits for the user's answer. */
  static waitsForUser(task: Task): boolean {
    return task.status === TaskStatus.BLOCKED && task.checkpoint !== null && task.checkpoint.action === null;
  }

  private find<T>(pick: (tree: InitiativeTree) => T | undefined): T | undefined {
    for (const tree of this.trees.values()) {
      const found = pick(tree);
      if (found) return found;
    }
    return undefined;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
