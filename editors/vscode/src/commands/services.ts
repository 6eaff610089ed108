/** The objects commands work with (wired once in extension.ts) and how commands are registered. */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client';
import { type Run, type RunControl, RUN_CONTROLS } from '../generated/protocol';
import { showErrorMessage, showInformationMessage } from '../messages';
import type { InitiativeStore } from '../model/initiativeStore';
import type { RunStore } from '../model/runStore';
import type { ReviewComments } from '../review/comments';
import type { DiffProvider } from '../review/diff';
import type { ConsoleManager } from '../views/console';
import type { QuestionPrompter } from '../views/questions';
import type { RunPrompt } from '../views/runPrompt';
import type { RunsNode } from '../views/runsTree';

/** What a run command is given: a Runs view node, a run id, or nothing (then it asks). */
export type RunArg = RunsNode | number | undefined;

export interface Services {
  root: vscode.Uri;
  client: DaemonClient;
  store: RunStore;
  initiatives: InitiativeStore;
  consoles: ConsoleManager;
  questions: QuestionPrompter;
  diffs: DiffProvider;
  comments: ReviewComments;
  runPrompt: RunPrompt;
}

/**
 * Register `devfactory.<name>`; a failure is shown to the user (the daemon's messages name the
 * field and the fix) and the command resolves to undefined.
 */
export function registerCommand(name: string, fn: (...args: never[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(`devfactory.${name}`, async (...args: never[]) => {
    try {
      return await fn(...args);
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      void showErrorMessage(message.startsWith('DevFactory') ? message : `DevFactory: ${message}`);
      return undefined;
    }
  });
}

/** The run a command is about: the one given, else one picked among those `control` applies to. */
export async function pickRun(s: Services, arg: RunArg, control: RunControl | undefined, placeHolder: string): Promise<number | undefined> {
  const runs = s.store.allRuns().filter((r) => !control || RUN_CONTROLS[r.status].includes(control));
  return pickRunAmong(arg, runs, placeHolder, 'DevFactory: no run to pick from.');
}

/** The run a command is about: the one given, else one picked among `runs` (`none` when empty). */
export async function pickRunAmong(arg: RunArg, runs: readonly Run[], placeHolder: string, none: string): Promise<number | undefined> {
  if (typeof arg === 'number') return arg;
  if (arg && 'runId' in arg) return arg.runId;
  if (runs.length === 0) {
    void showInformationMessage(none);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: `#${r.id} ${r.title}`, description: r.status, runId: r.id })),
    { placeHolder },
  );
  return picked?.runId;
}
