/** The objects commands work with (wired once in extension.ts) and how commands are registered. */
import * as vscode from 'vscode';
import type { DaemonClient } from '../client';
import type { InitiativeStore } from '../model/initiativeStore';
import type { RunStore } from '../model/runStore';
import type { ReviewComments } from '../review/comments';
import type { DiffProvider } from '../review/diff';
import type { ConsoleManager } from '../views/console';
import type { QuestionPrompter } from '../views/questions';
import type { RunPrompt } from '../views/runPrompt';

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
      void vscode.window.showErrorMessage(message.startsWith('DevFactory') ? message : `DevFactory: ${message}`);
      return undefined;
    }
  });
}
