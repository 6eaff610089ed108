/** Every `devfactory.*` command, registered once from extension.ts. */
import * as vscode from 'vscode';
import { registerFactoryCommands } from './factory';
import { registerReviewCommands } from './review';
import { registerRunCommands } from './runs';
import type { Services } from './services';
import { registerTrustCommands } from './trust';
import { registerWorkspaceCommands } from './workspace';

/** The when-clause key of package.json's menus: without a folder the commands do not exist. */
const ACTIVE = 'devfactory.active';

export function registerCommands(s: Services): vscode.Disposable[] {
  void vscode.commands.executeCommand('setContext', ACTIVE, true);
  return [...registerRunCommands(s), ...registerReviewCommands(s), ...registerWorkspaceCommands(s), ...registerFactoryCommands(s), ...registerTrustCommands(s)];
}
