/**
 * Layer 2: the packaged extension in a real VS Code extension host against the real daemon.
 * A scripted run proposes three hunks to app.py and asks a question; the suite sees the Runs
 * view and the console fill, answers through the quick pick, approves one hunk through the
 * CodeLens (undo proposes it again, redo applies it again), one through the daemon's code action, rejects the third, opens
 * the diff, and kills the daemon to see it come back.
 * Needs the daemon's runs (devfactory/runs/*, hitl/*) and review (changes/*, diagnostics, code
 * actions, workspace/applyEdit) features.
 */
import * as assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { type Change, ChangeStatus, type Run, RunStatus } from '../../src/generated/protocol';
import type { RunsNode } from '../../src/views/runsTree';
import { acceptQuickPickUntil, waitFor } from './wait';

const APP = 'app.py';

suite('DevFactory extension', () => {
  let api: DevFactoryApi;
  let appUri: vscode.Uri;
  let document: vscode.TextDocument;
  let run: Run;
  let change: Change;
  const line = (n: number) => document.lineAt(n).text;

  const lenses = async () =>
    ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', appUri)) ?? []).filter((l) => l.command);
  const focusApp = async () => vscode.window.showTextDocument(document, { preview: false });

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<DevFactoryApi>('devfactory.devfactory');
    assert.ok(extension, 'the DevFactory extension is installed');
    api = (await extension.activate())!;
    assert.ok(api, 'activate() returns the API when a folder is open');
    appUri = vscode.Uri.joinPath(api.root, APP);
    document = await vscode.workspace.openTextDocument(appUri);
    await focusApp();
  });

  test('the daemon starts and the status bar says so', async () => {
    await waitFor('the daemon to run', () => api.client.state === 'running');
    assert.equal(api.client.health?.databaseOk, true);
    assert.match(api.statusBar.text, /DevFactory/);
  });

  test('New Run creates a run that fills the Runs view and its console', async () => {
    run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Say hello', provider: 'scripted', model: 'review.json' }))!;
    assert.equal(run?.provider, 'scripted');
    const question = await waitFor('the question', () => api.store.questionsOf(run.id)[0]);
    assert.equal(question.question, 'Also update the docs?');
    const groups = api.tree.getChildren();
    assert.deepEqual(groups, [{ kind: 'group', status: RunStatus.WAITING_FOR_USER }]);
    const [runNode] = api.tree.getChildren(groups[0]);
    assert.deepEqual(runNode, { kind: 'run', runId: run.id });
    const children = api.tree.getChildren(runNode).map((n: RunsNode) => n.kind);
    assert.deepEqual([children[0], children[children.length - 1]], ['question', 'console']);
    assert.equal(api.tree.getTreeItem(runNode).contextValue?.startsWith('run.waiting_for_user'), true);
    // Look the document up on every poll: VS Code may close and reopen it (a new object).
    const consoleDoc = () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'devfactory-console' && d.uri.path === `/run-${run.id}.dfconsole`);
    assert.equal((await waitFor('the console document', consoleDoc)).languageId, 'devfactory-console');
    await waitFor(
      'the plan and the question in the console',
      () => {
        const text = consoleDoc()?.getText() ?? '';
        return /Plan: change greet\(\)/.test(text) && /\? Also update the docs\?/.test(text);
      },
      30_000,
      // It timed out in 2 fresh-clone runs: the document, and what the console would render now.
      () => `the document:\n${consoleDoc()?.getText()}\nthe console's own text:\n${api.consoles.text(run.id)}`,
    );
  });

  test('the question is answered through its quick pick', async () => {
    await acceptQuickPickUntil('the question to be answered', () => api.store.questionsOf(run.id).length === 0);
    await waitFor('the run to complete', () => api.store.run(run.id)?.status === RunStatus.COMPLETED);
    const text = api.consoles.text(run.id);
    assert.match(text, /greet\(\) now says hello/);
    change = await waitFor('the proposed change', () => api.store.proposedAt(APP)[0]);
    assert.equal(change.hunks.length, 3);
  });

  test('the daemon marks each proposed hunk with a Hint diagnostic (kept out of the Problems panel)', async () => {
    const diagnostics = await waitFor('3 devfactory diagnostics', () => {
      const found = vscode.languages.getDiagnostics(appUri).filter((d) => d.source === 'devfactory');
      return found.length === 3 && found;
    });
    assert.deepEqual(diagnostics.map((d) => [d.range.start.line, d.severity]), [
      [1, vscode.DiagnosticSeverity.Hint],
      [19, vscode.DiagnosticSeverity.Hint],
      [37, vscode.DiagnosticSeverity.Hint],
    ]);
  });

  test('each proposed hunk is drawn in the editor, with Approve · Reject · Diff on hover', async () => {
    await focusApp();
    const drawn = await waitFor('three hunks drawn inline', () => {
      const found = api.inline.rendered(appUri);
      return found.length === 3 && found;
    });
    assert.deepEqual(
      drawn.map((h) => [h.changeId, h.hunk, h.rows]),
      [
        [change.id, 0, [{ line: 1, removed: true, text: "return 'hello'" }]],
        [change.id, 1, [{ line: 19, removed: true, text: "return 'goodbye'" }]],
        [change.id, 2, [{ line: 37, removed: true, text: 'return text.upper()' }]],
      ],
    );
    assert.match(drawn[0].hover, /```python\n {4}return 'hello'\n```/);
    const links = [...drawn[0].hover.matchAll(/\(command:([\w.]+)\?([^)]*)\)/g)].map(([, command, args]) => [command, JSON.parse(decodeURIComponent(args))]);
    assert.deepEqual(links, [
      ['devfactory.approveChange', [change.id, 0]],
      ['devfactory.rejectChange', [change.id, 0]],
      ['devfactory.openDiff', [change.id]],
    ]);
  });

  test('CodeLens Approve applies one hunk to the open document; undo and redo work', async () => {
    await focusApp();
    const all = await waitFor('the review lenses', async () => {
      const found = await lenses();
      return found.length === 9 && found;
    });
    assert.deepEqual(all.slice(0, 3).map((l) => l.command!.title), ['$(check) Approve', '$(close) Reject', '$(diff) Diff']);
    assert.deepEqual(all.filter((l) => l.command!.command === 'devfactory.approveChange').map((l) => [l.range.start.line, ...l.command!.arguments!]), [
      [1, change.id, 0],
      [19, change.id, 1],
      [37, change.id, 2],
    ]);
    const approve = all.find((l) => l.command!.command === 'devfactory.approveChange')!;
    await vscode.commands.executeCommand(approve.command!.command, ...approve.command!.arguments!);
    await waitFor("greet() to say hello", () => line(1) === "    return 'hello'");
    await waitFor('only two hunks left with lenses', async () => (await lenses()).length === 6);
    await waitFor('only two hunks drawn', () => api.inline.rendered(appUri).length === 2);
    await focusApp();
    await vscode.commands.executeCommand('undo');
    await waitFor('undo to restore hi', () => line(1) === "    return 'hi'");
    // The state follows the text: the undone hunk is proposed again, with its lenses.
    await waitFor('the undone hunk proposed again', () => api.store.change(change.id)?.hunks[0].status === ChangeStatus.PROPOSED);
    await waitFor('its lenses back', async () => (await lenses()).length === 9);
    await vscode.commands.executeCommand('redo');
    await waitFor('redo to bring back hello', () => line(1) === "    return 'hello'");
    await waitFor('the redone hunk applied again', () => api.store.change(change.id)?.hunks[0].status === ChangeStatus.APPLIED);
    await waitFor('only two hunks left with lenses', async () => (await lenses()).length === 6);
  });

  test("the daemon's code action approves another hunk", async () => {
    const range = new vscode.Range(37, 0, 37, 0);
    const action = await waitFor('an approve code action', async () => {
      const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', appUri, range)) ?? [];
      return actions.find((a) => a.command?.command === 'devfactory.approve' && a.command.arguments?.[1] === 2);
    });
    await vscode.commands.executeCommand(action.command!.command, ...action.command!.arguments!);
    await waitFor('shout() to upper-case', () => line(37) === '    return text.upper()');
  });

  test('CodeLens Reject leaves the text and clears the last lens', async () => {
    const reject = (await lenses()).find((l) => l.command!.command === 'devfactory.rejectChange');
    assert.deepEqual(reject?.command!.arguments, [change.id, 1]);
    await vscode.commands.executeCommand(reject!.command!.command, ...reject!.command!.arguments!);
    await waitFor('no lens left', async () => (await lenses()).length === 0);
    assert.equal(line(19), "    return 'bye'");
    const decided = api.store.change(change.id)!;
    assert.deepEqual(decided.hunks.map((h) => h.status), [ChangeStatus.APPLIED, ChangeStatus.REJECTED, ChangeStatus.APPLIED]);
    await waitFor('the diagnostics to clear', () => vscode.languages.getDiagnostics(appUri).filter((d) => d.source === 'devfactory').length === 0);
    assert.ok(await document.save());
  });

  test('Diff opens vscode.diff between the current file and the proposal', async () => {
    await vscode.commands.executeCommand('devfactory.openDiff', change.id);
    const tab = await waitFor('a diff tab', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff && input;
    });
    assert.equal(tab.original.toString(), appUri.toString());
    assert.equal(tab.modified.scheme, 'devfactory-diff');
    const proposed = await vscode.workspace.openTextDocument(tab.modified);
    assert.match(proposed.getText(), /return 'goodbye'/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a crashed daemon is restarted and the views reload', async () => {
    const pid = api.client.pid;
    assert.ok(pid, 'the daemon has a pid');
    process.kill(pid, 'SIGKILL');
    await waitFor('the restart', () => api.client.state === 'running' && api.client.pid !== undefined && api.client.pid !== pid, 30_000);
    await waitFor('the run to be listed again', () => api.store.run(run.id)?.status === RunStatus.COMPLETED);
    assert.deepEqual(api.tree.getChildren(), [{ kind: 'group', status: RunStatus.COMPLETED }]);
  });
});

suite('DevFactory extension without its daemon', () => {
  test('a missing daemon fails with a message naming the fix, and recovers once fixed', async () => {
    const api = (await vscode.extensions.getExtension<DevFactoryApi>('devfactory.devfactory')!.activate())!;
    const config = vscode.workspace.getConfiguration('devfactory');
    const previous = config.inspect<string>('server.path')?.workspaceValue;
    await config.update('server.path', '/nonexistent/devfactory', vscode.ConfigurationTarget.Workspace);
    try {
      await api.client.restart();
      assert.equal(api.client.state, 'failed');
      assert.equal(api.client.problem?.problem, 'missing');
      assert.match(api.client.problem!.userMessage, /"\/nonexistent\/devfactory" was not found.*devfactory\.server\.path/);
      assert.match(api.statusBar.text, /\$\(error\) DevFactory/);
    } finally {
      await config.update('server.path', previous, vscode.ConfigurationTarget.Workspace);
    }
    await api.client.restart();
    assert.equal(api.client.state, 'running');
  });

  test('a crashed daemon that cannot be started again is reported, not "restarting" for good', async () => {
    const api = (await vscode.extensions.getExtension<DevFactoryApi>('devfactory.devfactory')!.activate())!;
    const config = vscode.workspace.getConfiguration('devfactory');
    const previous = config.inspect<string>('server.path')?.workspaceValue;
    // A copy of the daemon's executable that goes away while it runs (an uninstall, a venv rebuilt).
    const dir = mkdtempSync(join(tmpdir(), 'devfactory-gone-'));
    const gone = join(dir, 'devfactory');
    copyFileSync(previous!, gone);
    chmodSync(gone, 0o755);
    await config.update('server.path', gone, vscode.ConfigurationTarget.Workspace);
    try {
      await api.client.restart();
      assert.equal(api.client.state, 'running');
      rmSync(dir, { recursive: true, force: true });
      process.kill(api.client.pid!, 'SIGKILL');
      await waitFor('the failed restart to be reported', () => api.client.state === 'failed', 15_000, () => api.client.state);
      assert.equal(api.client.problem?.problem, 'missing');
      assert.match(api.statusBar.text, /\$\(error\) DevFactory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await config.update('server.path', previous, vscode.ConfigurationTarget.Workspace);
      await api.client.restart(); // the suites after this one need the daemon, pass or fail
    }
    assert.equal(api.client.state, 'running');
  });
});
