/**
 * Layer 2: the workspace commands in the real extension host: Search Codebase opens the hit
 * picked in its quick pick, Rebuild Index reports what it indexed, Create Snapshot records one.
 * Needs the daemon's index feature (devfactory/search, devfactory/index/rebuild) and
 * devfactory/snapshots/create.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { IndexRebuildResult, SearchHit, Snapshot } from '../../src/generated/protocol';
import { acceptQuickPickUntil, runningApi, waitFor } from './wait';

suite('DevFactory workspace commands', () => {
  suiteSetup(async () => {
    await runningApi();
  });

  test('Rebuild Index reports the files it saw', async () => {
    const result = await vscode.commands.executeCommand<IndexRebuildResult>('devfactory.rebuildIndex');
    assert.ok(result, 'the rebuild answered');
    assert.ok(result.filesSeen >= 2, `files seen: ${result.filesSeen}`);
  });

  test('Search Codebase opens the hit picked in the quick pick', async () => {
    let hit: SearchHit | undefined;
    let answered = false;
    void vscode.commands.executeCommand<SearchHit>('devfactory.searchCodebase', 'shout upper text').then((h) => {
      hit = h;
      answered = true;
    });
    await acceptQuickPickUntil('a hit to be picked', () => answered);
    assert.ok(hit, 'a hit was picked');
    const { path, startLine } = hit!;
    const editor = await waitFor('the hit open in an editor', () => {
      const active = vscode.window.activeTextEditor;
      return active?.document.uri.path.endsWith(`/${path}`) && active;
    });
    assert.equal(editor.selection.active.line, startLine - 1);
  });

  test('Create Snapshot records a manual snapshot', async () => {
    const snapshot = await vscode.commands.executeCommand<Snapshot>('devfactory.createSnapshot', 'before the e2e ends');
    assert.equal(snapshot?.type, 'manual');
    assert.equal(snapshot.description, 'before the e2e ends');
  });
});
