/** Every `devfactory.*` command, registered once from extension.ts. */
import type * as vscode from 'vscode';
import { registerFactoryCommands } from './factory';
import { registerReviewCommands } from './review';
import { registerRunCommands } from './runs';
import type { Services } from './services';
import { registerTrustCommands } from './trust';
import { registerWorkspaceCommands } from './workspace';

export function registerCommands(s: Services): vscode.Disposable[] {
  return [...registerRunCommands(s), ...registerReviewCommands(s), ...registerWorkspaceCommands(s), ...registerFactoryCommands(s), ...registerTrustCommands(s)];
}
