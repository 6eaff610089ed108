/**
 * Layer 2: the whole review loop in the real extension host. A scripted run proposes a README
 * change; the suite opens its diff, comments on a proposed line through the Comments API,
 * sends the comment back with Request Changes (the run works a second iteration and the thread
 * shows resolved), commits the run's branch, is refused a push until Submit Review approves
 * the run, then pushes to a bare remote; the diff editor's title Approve takes a change; a
 * conflict opens in the merge editor and Mark Resolved settles it from the file.
 * Needs the daemon's review (changes/comment|comments|requestChanges, reviews/submit) and git
 * (git/commit|push) features.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { type Change, ChangeStatus, Requests, type ReviewComment, ReviewDecision, type Run, RunStatus } from '../../src/generated/protocol';
import { runningApi, waitFor } from './wait';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

suite('DevFactory review loop', () => {
  let api: DevFactoryApi;
  let run: Run;
  let readme: Change;
  let proposed: vscode.Uri;
  let remote: string;
  const status = () => api.store.run(run.id)?.status;

  suiteSetup(async () => {
    api = await runningApi();
    remote = join(mkdtempSync(join(tmpdir(), 'devfactory-remote-')), 'remote.git');
    git(tmpdir(), 'init', '-q', '--bare', remote);
    git(api.root.fsPath, 'remote', 'add', 'origin', remote);
  });

  suiteTeardown(() => rmSync(dirname(remote), { recursive: true, force: true }));

  test('a run proposes a README change and its diff takes comments on proposed lines', async () => {
    run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Name the project', provider: 'scripted', model: 'loop.json' }))!;
    await waitFor('the run to complete', () => status() === RunStatus.COMPLETED, 30_000);
    readme = await waitFor('the README change', () => api.store.changesOf(run.id).find((c) => c.path === 'README.md'));
    await vscode.commands.executeCommand('devfactory.openDiff', readme.id);
    const tab = await waitFor('the diff tab', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && input;
    });
    proposed = tab.modified;
    const document = await vscode.workspace.openTextDocument(proposed);
    assert.equal(document.lineAt(0).text, '# DevFactory sample');
    // What the comment widget does when the user types on line 1 and presses Comment.
    const thread = api.comments.controller.createCommentThread(proposed, new vscode.Range(0, 0, 0, 0), []);
    const saved = await vscode.commands.executeCommand<ReviewComment>('devfactory.addComment', { thread, text: 'Say what the sample shows' });
    assert.deepEqual([saved?.changeId, saved?.line, saved?.body], [readme.id, 1, 'Say what the sample shows']);
    assert.equal(thread.comments.length, 1);
    assert.equal(thread.contextValue, 'devfactory.open');
    const { comments } = await api.client.request(Requests.CHANGES_COMMENTS, { runId: run.id });
    assert.deepEqual(comments.map((c) => c.body), ['Say what the sample shows']);
  });

  test('Request Changes sends the comment back: a second iteration runs and the thread is resolved', async () => {
    const runId = await vscode.commands.executeCommand<number>('devfactory.requestChanges', run.id, 'Keep it short');
    assert.equal(runId, run.id);
    await waitFor('the second iteration', () => api.store.run(run.id)?.metadata.iteration === 2);
    await waitFor('the second iteration to complete', () => status() === RunStatus.COMPLETED, 30_000);
    assert.match(api.consoles.text(run.id), /Say what the sample shows/);
    const thread = api.comments.allThreads().find((t) => t.uri.toString() === proposed.toString());
    assert.equal(thread?.state, vscode.CommentThreadState.Resolved);
    const open = await api.client.request(Requests.CHANGES_COMMENTS, { runId: run.id });
    assert.deepEqual(open.comments, []);
  });

  test('Commit, then Push is refused until Submit Review approves the run', async () => {
    const commit = await vscode.commands.executeCommand<{ branch: string; commitSha: string }>('devfactory.commitRun', run.id, 'Name the project');
    assert.ok(commit?.branch, 'the commit names its branch');
    assert.equal(await vscode.commands.executeCommand('devfactory.pushRun', run.id), undefined);
    assert.equal(git(remote, 'branch', '--list'), '', 'nothing reached the remote');
    const review = await vscode.commands.executeCommand<{ decision: string }>('devfactory.submitReview', run.id, ReviewDecision.APPROVED, 'Good');
    assert.equal(review?.decision, ReviewDecision.APPROVED);
    const pushed = await vscode.commands.executeCommand<{ branch: string }>('devfactory.pushRun', run.id);
    assert.equal(pushed?.branch, commit.branch);
    assert.equal(git(remote, 'rev-parse', commit.branch), commit.commitSha);
  });

  test("the diff editor's title Approve takes the change it shows", async () => {
    const changelog = await waitFor('a proposed changelog entry', () =>
      api.store.changesOf(run.id).find((c) => c.path === 'CHANGELOG_AI.md' && c.status === ChangeStatus.PROPOSED),
    );
    await vscode.commands.executeCommand('devfactory.openDiff', changelog.id);
    const tab = await waitFor('its diff tab', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && input.modified.query.includes(`change=${changelog.id}`) && input;
    });
    // An editor/title menu passes the editor's resource, then the editor group.
    await vscode.commands.executeCommand('devfactory.approveChange', tab.modified, { groupId: 0 });
    await waitFor('the changelog applied', () => api.store.change(changelog.id)?.status === ChangeStatus.APPLIED);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a conflict opens in the merge editor, and Mark Resolved settles it from your file', async () => {
    const readmeUri = vscode.Uri.joinPath(api.root, 'README.md');
    const document = await vscode.workspace.openTextDocument(readmeUri);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(readmeUri, document.lineAt(0).range, '# My sample');
    await vscode.workspace.applyEdit(edit);
    const result = await vscode.commands.executeCommand<{ conflicts: number[] }>('devfactory.approveChange', readme.id);
    assert.deepEqual(result?.conflicts, [readme.id]);
    assert.equal(api.store.change(readme.id)?.status, ChangeStatus.CONFLICT);

    await vscode.commands.executeCommand('devfactory.resolveConflict', readme.id);
    const merge = await waitFor('the merge editor', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { base?: vscode.Uri; input1?: vscode.Uri; input2?: vscode.Uri; result?: vscode.Uri } | undefined;
      return input?.base && input;
    });
    assert.deepEqual(
      [merge.base, merge.input1, merge.input2].map((u) => new URLSearchParams(u!.query).get('side')),
      ['before', 'yours', 'after'],
    );
    assert.equal(merge.result?.toString(), readmeUri.toString());
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

    // The user takes the run's title in their file, then marks the conflict resolved.
    const take = new vscode.WorkspaceEdit();
    take.replace(readmeUri, document.lineAt(0).range, '# DevFactory sample');
    await vscode.workspace.applyEdit(take);
    const resolved = await vscode.commands.executeCommand<Change>('devfactory.markResolved', readme.id);
    assert.equal(resolved?.status, ChangeStatus.APPLIED);
    assert.equal(api.store.change(readme.id)?.status, ChangeStatus.APPLIED);
    await document.save();
  });
});
