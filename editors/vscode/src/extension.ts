/**
 * DevFactory for VS Code: wires the daemon connection to the views. Everything here only
 * connects objects; the logic lives in the modules it imports.
 */
import * as vscode from 'vscode';
import { DaemonClient } from './client';
import { registerReviewCommands } from './commands/review';
import { registerRunCommands } from './commands/runs';
import type { Services } from './commands/services';
import { registerWorkspaceCommands } from './commands/workspace';
import { Commands, Notifications, Requests } from './generated/protocol';
import { RunStore } from './model/runStore';
import { ReviewCodeLensProvider } from './review/codeLens';
import { ReviewComments } from './review/comments';
import { DiffProvider } from './review/diff';
import { InlineProposals } from './review/inline';
import { affectsDaemon } from './settings';
import { DaemonStatusBar } from './statusBar';
import { ConsoleManager } from './views/console';
import { QuestionPrompter } from './views/questions';
import { RunEndNotifier } from './views/runEnd';
import { RunPrompt } from './views/runPrompt';
import { RunsTreeProvider } from './views/runsTree';

/** What activate() returns: the wired objects, for other extensions and the integration tests. */
export interface DevFactoryApi extends Services {
  tree: RunsTreeProvider;
  statusBar: DaemonStatusBar;
  inline: InlineProposals;
}

export async function activate(context: vscode.ExtensionContext): Promise<DevFactoryApi | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!root || root.scheme !== 'file') return undefined;

  const s = {} as DevFactoryApi;
  s.root = root;
  s.client = new DaemonClient(
    root,
    {
      [Notifications.RUN_CHANGED]: ({ run }) => s.store.applyRun(run),
      [Notifications.CHANGE_PROPOSED]: ({ change }) => s.store.applyChange(change),
      [Notifications.QUESTION]: ({ request }) => s.questions.onQuestion(request),
      [Notifications.EVENT]: ({ event }) => {
        s.consoles.onEvent(event);
        void s.store.applyEvent(event);
      },
      [Notifications.STREAM]: (note) => s.consoles.onStream(note),
    },
    {
      // The daemon's "Show diff" code action opens VS Code's diff editor here, client-side.
      executeCommand: (command, args, next) =>
        command === Commands.SHOW_DIFF ? s.diffs.open(Number(args[0])) : next(command, args),
    },
  );
  s.store = new RunStore(s.client, (what, error) => s.client.output.warn(`could not load ${what}: ${String(error)}`));
  s.consoles = new ConsoleManager(s.client, s.store);
  s.questions = new QuestionPrompter(s.client, s.store);
  s.diffs = new DiffProvider(s.client, root);
  s.comments = new ReviewComments(s.client);
  s.runPrompt = new RunPrompt(context.workspaceState, () => s.client.request(Requests.HEALTH, {}).catch(() => s.client.health));
  s.tree = new RunsTreeProvider(s.store, root);
  s.statusBar = new DaemonStatusBar(s.client, s.store);
  s.inline = new InlineProposals(s.client, s.store, root);
  const lenses = new ReviewCodeLensProvider(s.store, root);

  context.subscriptions.push(
    s.client,
    s.store,
    s.consoles,
    s.diffs,
    s.comments,
    s.diffs.onDidOpen((uri) => s.comments.load(uri).catch((error) => s.client.output.warn(`could not load comments: ${String(error)}`))),
    s.tree,
    s.statusBar,
    s.inline,
    lenses,
    new RunEndNotifier(s.store, { openConsole: (runId) => s.consoles.open(runId), openDiff: (changeId) => s.diffs.open(changeId) }),
    vscode.window.createTreeView('devfactory.runs', { treeDataProvider: s.tree, showCollapseAll: true }),
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, lenses),
    ...registerRunCommands(s),
    ...registerReviewCommands(s),
    ...registerWorkspaceCommands(s),
    s.client.onDidChangeState(async (state) => {
      if (state !== 'running') return;
      await s.store.refresh();
      await s.consoles.catchUp();
      s.store.pendingQuestions().forEach((q) => s.questions.enqueue(q.id));
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!affectsDaemon(event)) return;
      const choice = await vscode.window.showInformationMessage('DevFactory settings changed: restart the daemon to apply them?', 'Restart');
      if (choice === 'Restart') await s.client.restart();
    }),
  );
  await s.client.start();
  return s;
}

