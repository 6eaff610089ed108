/**
 * Run consoles: a read-only virtual document per run (`devfactory-console:/run-<id>.dfconsole`)
 * that replays devfactory/events and then follows devfactory/event and devfactory/stream live;
 * its editor stays at the end while the user has not scrolled up (TailFollower).
 * The devfactory-console grammar colours severities; command output folds under its command;
 * each step that changed the worktree has a "Rewind to here" code lens.
 */
import * as vscode from 'vscode';
import { type Event, RUN_CONTROLS, RunControl, type StreamNotification } from '../generated/protocol';
import type { DaemonApi } from '../model/daemonApi';
import { EventLog } from '../model/eventLog';
import { renderConsole, type ConsoleText } from '../model/consoleText';
import type { RunStore } from '../model/runStore';
import { TailFollower } from './tailFollower';

export const CONSOLE_SCHEME = 'devfactory-console';
const REFRESH_MS = 50;

export function consoleUri(runId: number): vscode.Uri {
  return vscode.Uri.from({ scheme: CONSOLE_SCHEME, path: `/run-${runId}.dfconsole` });
}

function runIdOf(uri: vscode.Uri): number | undefined {
  const match = /^\/run-(\d+)\.dfconsole$/.exec(uri.path);
  return match ? Number(match[1]) : undefined;
}

export class ConsoleManager
  implements vscode.TextDocumentContentProvider, vscode.FoldingRangeProvider, vscode.CodeLensProvider, vscode.Disposable
{
  private readonly logs = new Map<number, EventLog>();
  private readonly rendered = new Map<number, ConsoleText>();
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  readonly tail = new TailFollower(CONSOLE_SCHEME);

  constructor(
    private readonly api: DaemonApi,
    private readonly store: RunStore,
  ) {
    this.disposables.push(
      this.tail,
      vscode.workspace.registerTextDocumentContentProvider(CONSOLE_SCHEME, this),
      vscode.languages.registerFoldingRangeProvider({ scheme: CONSOLE_SCHEME }, this),
      vscode.languages.registerCodeLensProvider({ scheme: CONSOLE_SCHEME }, this),
      store.onDidChange(() => this.logs.forEach((_, runId) => this.schedule(runId))),
    );
  }

  /** Open (or focus) a run's console, replaying what happened so far. */
  async open(runId: number): Promise<vscode.TextEditor> {
    const log = this.log(runId);
    await log.replay(this.api);
    const document = await vscode.workspace.openTextDocument(consoleUri(runId));
    // VS Code drops a change fired while the document was being opened (it had no document
    // for the uri yet): what arrived between its read of the content and now would show only
    // with the next event, and a run waiting for the user sends none.
    this.schedule(runId);
    const editor = await vscode.window.showTextDocument(document, { preview: false });
    this.tail.start(editor);
    return editor;
  }

  /** Current text of a run's console (tests read it). */
  text(runId: number): string {
    return this.render(runId).text;
  }

  onEvent(event: Event): void {
    if (event.runId !== null) this.logs.get(event.runId)?.add(event);
  }

  onStream(note: StreamNotification): void {
    this.logs.get(note.runId)?.addStream(note.delta);
  }

  /** After the daemon restarts: fetch what open consoles missed while it was down. */
  async catchUp(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.replay(this.api).catch(() => 0)));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const runId = runIdOf(uri);
    return runId === undefined ? '' : this.render(runId).text;
  }

  provideFoldingRanges(document: vscode.TextDocument): vscode.FoldingRange[] {
    const runId = runIdOf(document.uri);
    const rendered = runId === undefined ? undefined : this.rendered.get(runId);
    return (rendered?.folds ?? []).map((f) => new vscode.FoldingRange(f.start, f.end, vscode.FoldingRangeKind.Region));
  }

  /** "Rewind to here" on each step that changed the worktree, while the run can rewind. */
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const runId = runIdOf(document.uri);
    const run = runId === undefined ? undefined : this.store.run(runId);
    if (runId === undefined || !run || !RUN_CONTROLS[run.status].includes(RunControl.REWIND)) return [];
    return (this.rendered.get(runId)?.rewindPoints ?? []).map(
      ({ line, step }) =>
        new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
          title: step === 0 ? 'Rewind to the start' : `Rewind to here (step ${step})`,
          command: 'devfactory.rewindRun',
          arguments: [runId, step],
        }),
    );
  }

  private log(runId: number): EventLog {
    let log = this.logs.get(runId);
    if (!log) {
      log = new EventLog(runId);
      this.logs.set(runId, log);
      this.disposables.push(log, log.onDidChange(() => this.schedule(runId)));
    }
    return log;
  }

  private render(runId: number): ConsoleText {
    const log = this.log(runId);
    const text = renderConsole(this.store.run(runId), runId, log.events, log.streaming);
    this.rendered.set(runId, text);
    return text;
  }

  /** Re-render a console at most every REFRESH_MS while events pour in. */
  private schedule(runId: number): void {
    if (this.pending.has(runId)) return;
    this.pending.set(
      runId,
      setTimeout(() => {
        this.pending.delete(runId);
        this.changed.fire(consoleUri(runId));
        this.lensesChanged.fire();
      }, REFRESH_MS),
    );
  }

  dispose(): void {
    this.pending.forEach(clearTimeout);
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
    this.lensesChanged.dispose();
  }
}
