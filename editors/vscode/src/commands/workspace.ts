/**
 * Workspace commands: Search Codebase, Create / Restore Snapshot, Rebuild Index, Show Health,
 * Restart Daemon and Show Daemon Log.
 */
import * as vscode from 'vscode';
import { Requests, SnapshotOrigin, type SearchHit } from '../generated/protocol';
import { showInformationMessage, showInputBox, showWarningMessage } from '../messages';
import { healthDetail } from '../model/healthText';
import { plural } from '../model/plural';
import { restoredText, restoreQuestion, snapshotQuestion, snapshotTakenText } from '../model/snapshotText';
import { workspaceRelative } from '../model/workspacePath';
import { registerCommand, type Services } from './services';

export function registerWorkspaceCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommand('searchCodebase', (query?: string) => searchCodebase(s, query)),
    registerCommand('createSnapshot', async (description?: string) => {
      const text = description ?? (await showInputBox({ prompt: 'Describe the snapshot (optional)', ignoreFocusOut: true }));
      if (text === undefined) return undefined;
      const unsaved = unsavedDocuments(s.root);
      const question = snapshotQuestion(unsaved.map(({ path }) => path));
      if (question) {
        const confirm = await showWarningMessage(question.message, { modal: true, detail: question.detail }, question.action);
        if (confirm !== question.action) return undefined;
        await saveAll(unsaved, 'no snapshot was taken');
      }
      const snapshot = await s.client.request(Requests.SNAPSHOTS_CREATE, { description: text });
      void showInformationMessage(snapshotTakenText(snapshot));
      return snapshot;
    }),
    registerCommand('restoreSnapshot', async () => {
      const listed = await s.client.request(Requests.SNAPSHOTS_LIST, { limit: 50 });
      // A run's worktree snapshots hold unreviewed files: they reach the workspace through review only.
      const snapshots = listed.snapshots.filter((snap) => snap.origin === SnapshotOrigin.WORKSPACE);
      const picked = await vscode.window.showQuickPick(
        snapshots.map((snap) => ({ label: `#${snap.id} ${snap.description || snap.type}`, description: `${snap.type} · ${snap.createdAt}`, id: snap.id })),
        { placeHolder: snapshots.length ? 'Restore which snapshot?' : 'No snapshots yet' },
      );
      if (!picked) return undefined;
      const unsaved = unsavedDocuments(s.root);
      const question = restoreQuestion(picked.id, unsaved.map(({ path }) => path));
      const confirm = await showWarningMessage(question.message, { modal: true, detail: question.detail }, question.action);
      if (confirm !== question.action) return undefined;
      await saveAll(unsaved, 'nothing was restored');
      const result = await s.client.request(Requests.SNAPSHOTS_RESTORE, { snapshotId: picked.id });
      void showInformationMessage(restoredText(result));
      return result;
    }),
    registerCommand('rebuildIndex', async () => {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'DevFactory: indexing' },
        () => s.client.request(Requests.INDEX_REBUILD, { full: false }),
      );
      void showInformationMessage(
        `DevFactory: indexed ${plural(result.filesIndexed, 'file')} (${result.filesUnchanged} unchanged, ${plural(result.chunks, 'chunk')}) in ${Math.round(result.durationMs)} ms.`,
      );
      return result;
    }),
    registerCommand('showHealth', async () => {
      const health = await s.client.request(Requests.HEALTH, {});
      const detail = healthDetail(health);
      void showInformationMessage('DevFactory daemon health', { modal: true, detail });
      return health;
    }),
    registerCommand('restartDaemon', () => s.client.restart()),
    registerCommand('showLog', () => s.client.output.show()),
  ];
}

/** The workspace's files with edits not saved yet: no snapshot holds those edits. */
function unsavedDocuments(root: vscode.Uri): { path: string; document: vscode.TextDocument }[] {
  return vscode.workspace.textDocuments.flatMap((document) => {
    const path = document.isDirty && document.uri.scheme === 'file' ? workspaceRelative(root.fsPath, document.uri.fsPath) : undefined;
    return path === undefined ? [] : [{ path, document }];
  });
}

/** Save what unsavedDocuments found; a file that does not save stops the command (`stopped` says what it did not do). */
async function saveAll(unsaved: readonly { path: string; document: vscode.TextDocument }[], stopped: string): Promise<void> {
  for (const { path, document } of unsaved) {
    if (!(await document.save())) throw new Error(`${path} could not be saved; ${stopped}`);
  }
}

async function searchCodebase(s: Services, given?: string): Promise<SearchHit | undefined> {
  const query = given ?? (await showInputBox({ prompt: 'Search the codebase (words, symbols or a question)', ignoreFocusOut: true }));
  if (!query?.trim()) return undefined;
  const result = await s.client.request(Requests.SEARCH, { query, limit: 30 });
  const picked = await vscode.window.showQuickPick(
    result.hits.map((hit) => ({
      label: `${hit.path}:${hit.startLine}`,
      description: hit.symbol ?? undefined,
      detail: hit.snippet.split('\n').find((l) => l.trim())?.trim(),
      hit,
    })),
    { placeHolder: `${plural(result.hits.length, 'hit')} for "${query}" (${Math.round(result.tookMs)} ms)`, matchOnDescription: true, matchOnDetail: true },
  );
  if (!picked) return undefined;
  const line = Math.max(0, picked.hit.startLine - 1);
  const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(s.root, picked.hit.path));
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0) });
  return picked.hit;
}
