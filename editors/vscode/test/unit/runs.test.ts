// Layer 1, whole flow against the real daemon: a scripted run fills the RunStore and an
// EventLog from the daemon's notifications, asks a question, proposes three hunks; the
// extension's models see it all, and approving / rejecting single hunks changes the file.
// Hunks are context-free: oldStart is the first changed line.
// Needs devfactory/runs/* and hitl/* (runs feature) and devfactory/changes/* (review feature).
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HitlAction, Notifications, Requests, type Run, RunStatus } from '../../src/generated/protocol';
import { renderConsole } from '../../src/model/consoleText';
import { EventLog } from '../../src/model/eventLog';
import { RunStore } from '../../src/model/runStore';
import { TestDaemon } from '../support/daemon';
import { APP_PY, APP_PY_ALL_APPROVED, makeGitRepo, reviewWorkspace, script } from '../support/workspace';

let workspace: string;
let daemon: TestDaemon;
let store: RunStore;
let run: Run;
let live: EventLog;

before(async () => {
  workspace = reviewWorkspace();
  daemon = await TestDaemon.start(workspace);
  store = new RunStore(daemon, (what, error) => {
    throw new Error(`could not load ${what}: ${String(error)}`);
  });
  daemon.on(Notifications.RUN_CHANGED, ({ run }) => store.applyRun(run));
  daemon.on(Notifications.CHANGE_PROPOSED, ({ change }) => store.applyChange(change));
  daemon.on(Notifications.QUESTION, ({ request }) => store.applyQuestion(request));
  daemon.on(Notifications.EVENT, ({ event }) => {
    void store.applyEvent(event);
    live?.add(event);
  });
  daemon.on(Notifications.STREAM, (note) => {
    if (note.runId === live?.runId) live.addStream(note.delta);
  });
  await store.refresh();
});

after(async () => {
  await daemon.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test('a scripted run shows in the store and its console replays then follows live', async () => {
  run = await daemon.request(Requests.RUNS_CREATE, { prompt: 'Say hello', provider: 'scripted', model: 'review.json', start: true });
  store.applyRun(run);
  live = new EventLog(run.id);
  await live.replay(daemon);
  const question = await daemon.waitFor('the question', () => store.pendingQuestions()[0]);
  assert.equal(question.runId, run.id);
  assert.equal(question.question, 'Also update the docs?');
  assert.deepEqual(question.choices, ['yes', 'no']);
  await daemon.waitFor('waiting_for_user', () => store.run(run.id)?.status === RunStatus.WAITING_FOR_USER);
  assert.deepEqual(store.groups().map((g) => g.status), [RunStatus.WAITING_FOR_USER]);

  const replayed = new EventLog(run.id);
  await replayed.replay(daemon);
  await daemon.waitFor('live events to catch up', () => live.lastId >= replayed.lastId);
  const liveIds = live.events.filter((e) => e.id <= replayed.lastId).map((e) => e.id);
  assert.deepEqual(liveIds, replayed.events.map((e) => e.id), 'replay-then-live has no gap and no duplicate');
  const text = renderConsole(store.run(run.id), run.id, live.events, live.streaming).text;
  assert.match(text, /Plan: change greet\(\) to say hello/);
  assert.match(text, /\? Also update the docs\?/);
});

test('answering the question lets the run finish with one change of three hunks', async () => {
  const [question] = store.questionsOf(run.id);
  const answered = await daemon.request(Requests.HITL_RESPOND, { requestId: question.id, action: HitlAction.ANSWER, text: 'no' });
  store.applyQuestion(answered);
  assert.deepEqual(store.pendingQuestions(), []);
  await daemon.waitFor('the run to complete', () => store.run(run.id)?.status === RunStatus.COMPLETED);
  const [change] = await daemon.waitFor('a proposed change to app.py', () => store.proposedAt('app.py').length === 1 && store.proposedAt('app.py'));
  assert.equal(change.runId, run.id);
  assert.equal(change.action, 'update');
  assert.deepEqual(change.hunks.map((h) => [h.index, h.oldStart, h.status]), [
    [0, 2, 'proposed'],
    [1, 20, 'proposed'],
    [2, 38, 'proposed'],
  ]);
  assert.equal(store.hasProposed(run.id), true);
  const diff = await daemon.request(Requests.CHANGES_DIFF, { changeId: change.id });
  assert.equal(diff.before, APP_PY);
  assert.equal(diff.after, APP_PY_ALL_APPROVED);
  assert.match(diff.diff, /^- {4}return 'hi'$/m);
  assert.equal(readFileSync(join(workspace, 'app.py'), 'utf8'), APP_PY, 'review mode leaves the file alone');
});

test('approving one hunk and rejecting another changes exactly that hunk on disk', async () => {
  const [change] = store.proposedAt('app.py');
  const approved = await daemon.request(Requests.CHANGES_APPROVE, { changeIds: [change.id], hunks: [0] });
  store.applyChanges(approved.changes);
  assert.equal(readFileSync(join(workspace, 'app.py'), 'utf8'), APP_PY.replace("return 'hi'", "return 'hello'"));
  const rejected = await daemon.request(Requests.CHANGES_REJECT, { changeIds: [change.id], hunks: [1] });
  store.applyChanges(rejected.changes);
  const hunks = store.change(change.id)!.hunks.map((h) => h.status);
  assert.deepEqual(hunks, ['applied', 'rejected', 'proposed']);
  await store.refresh();
  assert.deepEqual(store.change(change.id)!.hunks.map((h) => h.status), hunks, 'the daemon agrees after a reload');
});

test('cancelling a running run moves it to cancelled', async () => {
  const slow = makeGitRepo({ 'a.py': 'x = 1\n', 'slow.json': script('Plan: wait.', [[{ name: 'list_files', arguments: {} }]], 5) });
  const other = await TestDaemon.start(slow);
  try {
    const created = await other.request(Requests.RUNS_CREATE, { prompt: 'wait', provider: 'scripted', model: 'slow.json', start: true });
    await other.waitFor('running', () => other.notes(Notifications.RUN_CHANGED).some(({ run }) => run.id === created.id && run.status === RunStatus.RUNNING));
    const cancelled = await other.request(Requests.RUNS_CANCEL, { runId: created.id });
    assert.equal(cancelled.status, RunStatus.CANCELLED);
  } finally {
    await other.stop();
    rmSync(slow, { recursive: true, force: true });
  }
});
