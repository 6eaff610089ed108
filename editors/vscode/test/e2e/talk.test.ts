/**
 * Layer 2: talking to runs in the real extension host: Message Run follows up a completed run
 * in the same conversation, Ask DevFactory about the Selection attaches the selected lines, a
 * plan is approved from its quick pick and the run acts on it, a question cancelled with its run
 * closes its prompt, and Rewind Run (the console's "Rewind to here") puts the worktree back
 * while a diff open meanwhile shows the proposal as it is then. Needs devfactory/runs/message
 * and runs/rewind.
 */
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { type Event, EventType, Requests, type Run, RunStatus } from '../../src/generated/protocol';
import { acceptQuickPickUntil, runningApi, waitFor } from './wait';

suite('DevFactory talk', () => {
  let api: DevFactoryApi;
  const runOf = (id: number) => api.store.run(id);
  const ended = (id: number, iteration = 1) => {
    const run = runOf(id);
    const finished: RunStatus[] = [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED];
    return run && finished.includes(run.status) && run.metadata.iteration === iteration ? run : undefined;
  };
  const diffUri = (changeId: number) =>
    vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .map((t) => t.input)
      .find((i): i is vscode.TabInputTextDiff => i instanceof vscode.TabInputTextDiff && i.modified.query.includes(`change=${changeId}&`))!.modified;
  const events = async (runId: number): Promise<Event[]> => (await api.client.request(Requests.EVENTS, { runId, since: 0, limit: 1000 })).events;

  suiteSetup(async () => {
    api = await runningApi();
  });

  test('Message Run follows up a completed run in the same conversation', async () => {
    const run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Answer me', provider: 'scripted', model: 'talk.json' }))!;
    assert.equal((await waitFor('the first answer', () => ended(run.id))).status, RunStatus.COMPLETED);
    const sent = (await vscode.commands.executeCommand<Run>('devfactory.messageRun', run.id, 'and now the details'))!;
    assert.equal(sent.metadata.iteration, 2);
    assert.equal((await waitFor('the follow-up', () => ended(run.id, 2))).status, RunStatus.COMPLETED);
    const said = (await events(run.id)).filter((e) => e.type === EventType.AI_MESSAGE).map((e) => e.message);
    assert.ok(said.includes('Following up.\n> and now the details'), JSON.stringify(said));
  });

  test('Ask DevFactory about the Selection attaches the selected lines', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(join(root, 'app.py')));
    editor.selection = new vscode.Selection(0, 0, 2, 0);
    const run = (await vscode.commands.executeCommand<Run>('devfactory.askAboutSelection', 'what does greet do?'))!;
    const recorded = await events(run.id);
    const task = recorded.find((e) => e.type === EventType.CONVERSATION_MESSAGE_ADDED);
    const content = String(task?.payload['content'] ?? '');
    assert.match(content, /^what does greet do\?/);
    // The lines as the editor shows them (an earlier suite may have approved a change to them).
    const shown = editor.document.getText(new vscode.Range(0, 0, 2, 0));
    assert.ok(content.includes(`app.py:1-2 (selected in the editor)\n\`\`\`\n${shown}\`\`\``), content);
    const loaded = recorded.find((e) => e.type === EventType.AI_CONTEXT_LOADED);
    assert.deepEqual(
      (loaded?.payload['attachments'] as { kind: string; path: string }[]).map((a) => [a.kind, a.path]),
      [['selection', 'app.py']],
    );
  });

  test('a plan is approved from its quick pick, then the run acts on it', async () => {
    const run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Greet', provider: 'scripted', model: 'plan.json', plan: true }))!;
    const question = await waitFor('the plan', () => api.store.questionsOf(run.id)[0]);
    assert.equal(question.kind, 'plan');
    assert.equal(question.question, '1. Say hello');
    await acceptQuickPickUntil('the plan to be approved', () => api.store.questionsOf(run.id).length === 0);
    const done = await waitFor('the run to act', () => ended(run.id));
    assert.equal(done.status, RunStatus.COMPLETED, done.failedReason ?? '');
    assert.equal(done.metadata.plan, '1. Say hello');
    assert.equal(done.metadata.planApproved, true);
    assert.equal(readFileSync(join(done.worktreePath!, 'hello.txt'), 'utf8'), 'hello\n');
  });

  test('a question cancelled with its run closes its prompt', async () => {
    const run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Greet', provider: 'scripted', model: 'plan.json', plan: true }))!;
    const question = await waitFor('the plan', () => api.store.questionsOf(run.id)[0]);
    await waitFor('its prompt', () => api.questions.onScreen.includes(question.id));
    await vscode.commands.executeCommand('devfactory.cancelRun', run.id);
    await waitFor('the prompt to close', () => api.questions.onScreen.length === 0, 10_000, () => JSON.stringify(api.questions.onScreen));
    assert.deepEqual(api.store.questionsOf(run.id), []);
  });

  test('Rewind Run puts the worktree back to a checkpoint, then to the start', async () => {
    const run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Two notes', provider: 'scripted', model: 'steps.json' }))!;
    const done = await waitFor('the run', () => ended(run.id));
    assert.equal(done.status, RunStatus.COMPLETED, done.failedReason ?? '');
    const notes = join(done.worktreePath!, 'notes.txt');
    assert.equal(readFileSync(notes, 'utf8'), 'two\n');
    // The diff open before the rewind follows the proposal: its title's Approve takes what it shows.
    const change = await waitFor('the notes change', () => api.store.changesOf(run.id).find((c) => c.path === 'notes.txt'));
    await vscode.commands.executeCommand('devfactory.openDiff', change.id);
    const proposed = await vscode.workspace.openTextDocument(diffUri(change.id));
    assert.equal(proposed.getText(), 'two\n');
    const rewound = vscode.commands.executeCommand('devfactory.rewindRun', run.id, 1);
    await acceptQuickPickUntil('the rewind to step 1', () => readFileSync(notes, 'utf8') === 'one\n');
    await rewound;
    await waitFor('the open diff to show the new proposal', () => proposed.getText() === 'one\n', 10_000, () => proposed.getText());
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    const back = vscode.commands.executeCommand('devfactory.rewindRun', run.id, 0);
    await acceptQuickPickUntil('the rewind to the start', () => !existsSync(notes));
    await back;
    const kinds = (await events(run.id)).filter((e) => e.type === EventType.RUN_REWOUND).map((e) => e.payload['step']);
    assert.deepEqual(kinds, [1, 0]);
  });
});
