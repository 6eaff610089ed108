/**
 * DevFactory for VS Code: wires the daemon connection to the views. Everything here only
 * connects objects; the logic lives in the modules it imports.
 */
import * as vscode from 'vscode';
import { DaemonClient } from './client';
import { registerCommands } from './commands';
import { offerTrustReview } from './commands/trust';
import type { Services } from './commands/services';
import { Commands, Notifications, Requests } from './generated/protocol';
import { showInformationMessage } from './messages';
import { ChangeTexts } from './model/changeTexts';
import { InitiativeStore } from './model/initiativeStore';
import { RunStore } from './model/runStore';
import { ReviewCodeLensProvider } from './review/codeLens';
import { ReviewComments } from './review/comments';
import { DiffProvider } from './review/diff';
import { InlineProposals } from './review/inline';
import { servedFolder } from './servedFolder';
import { affectsDaemon } from './settings';
import { DaemonStatusBar } from './statusBar';
import { ConsoleManager } from './views/console';
import { InitiativesTreeProvider } from './views/initiativesTree';
import { QuestionPrompter } from './views/questions';
import { RunEndNotifier } from './views/runEnd';
import { RunPrompt } from './views/runPrompt';
import { RunsTreeProvider } from './views/runsTree';

/** What activate() returns: the wired objects, for other extensions and the integration tests. */
export interface DevFactoryApi extends Services {
  tree: RunsTreeProvider;
  initiativesTree: InitiativesTreeProvider;
  statusBar: DaemonStatusBar;
  inline: InlineProposals;
}

export async function activate(context: vscode.ExtensionContext): Promise<DevFactoryApi | undefined> {
  const root = servedFolder(context.workspaceState);
  if (!root) return undefined;
  const s = { root } as DevFactoryApi;
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
      [Notifications.INITIATIVE_CHANGED]: ({ initiative }) => void s.initiatives.reload(initiative.id),
    },
    {
      // The daemon's "Show diff" code action opens VS Code's diff editor here, client-side.
      executeCommand: (command, args, next) =>
        command === Commands.SHOW_DIFF ? s.diffs.open(Number(args[0])) : next(command, args),
    },
  );
  const warn = (what: string, error: unknown) => s.client.output.warn(`could not load ${what}: ${String(error)}`);
  s.store = new RunStore(s.client, warn);
  s.initiatives = new InitiativeStore(s.client, warn);
  s.consoles = new ConsoleManager(s.client, s.store);
  s.questions = new QuestionPrompter(s.client, s.store);
  const texts = new ChangeTexts(s.client, s.store); // one cache of proposed texts: diffs and inline hunks
  s.diffs = new DiffProvider(texts, root);
  s.comments = new ReviewComments(s.client);
  s.runPrompt = new RunPrompt(context.workspaceState, () => s.client.request(Requests.HEALTH, {}).catch(() => s.client.health));
  s.tree = new RunsTreeProvider(s.store, root);
  s.initiativesTree = new InitiativesTreeProvider(s.initiatives);
  s.statusBar = new DaemonStatusBar(s.client, s.store);
  s.inline = new InlineProposals(texts, s.store, root);
  const lenses = new ReviewCodeLensProvider(s.store, root);

  context.subscriptions.push(
    ...[s.client, s.store, s.initiatives, s.consoles, texts, s.diffs, s.comments],
    s.diffs.onDidOpen((uri) => s.comments.load(uri).catch((error) => s.client.output.warn(`could not load comments: ${String(error)}`))),
    ...[s.tree, s.initiativesTree, s.statusBar, s.inline, lenses],
    new RunEndNotifier(s.store, { openConsole: (runId) => s.consoles.open(runId), openDiff: (changeId) => s.diffs.open(changeId) }),
    vscode.window.createTreeView('devfactory.runs', { treeDataProvider: s.tree, showCollapseAll: true }),
    vscode.window.createTreeView('devfactory.initiatives', { treeDataProvider: s.initiativesTree, showCollapseAll: true }),
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, lenses),
    ...registerCommands(s),
    s.client.onDidChangeState(async (state) => {
      if (state !== 'running') return;
      await Promise.all([s.store.refresh(), s.initiatives.refresh()]);
      await s.consoles.catchUp();
      s.store.pendingQuestions().forEach((q) => s.questions.enqueue(q.id));
      void offerTrustReview(s).catch((error) => s.client.output.warn(`could not check workspace trust: ${String(error)}`));
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      const ask = () => showInformationMessage('DevFactory settings changed: restart the daemon to apply them?', 'Restart');
      if (affectsDaemon(event) && (await ask()) === 'Restart') await s.client.restart();
    }),
  );
  await s.client.start();
  return s;
}

