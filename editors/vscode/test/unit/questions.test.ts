// Layer 1 against the real daemon: a run cancelled while it waits for the user takes its
// question with it. The daemon cancels the question and says nothing about it, so the RunStore
// must not keep it pending: the Runs view and the status bar's question count read from there,
// and the on-screen prompt closes when the store drops it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Notifications, Requests, RunStatus } from '../../src/generated/protocol';
import { RunStore } from '../../src/model/runStore';
import { TestDaemon } from '../support/daemon';
import { reviewWorkspace } from '../support/workspace';

let workspace: string;
let daemon: TestDaemon;

before(async () => {
  workspace = reviewWorkspace();
  daemon = await TestDaemon.start(workspace);
});

after(async () => {
  await daemon.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test('cancelling a run that waits for an answer drops its question from the store', async () => {
  const store = new RunStore(daemon);
  daemon.on(Notifications.RUN_CHANGED, ({ run }) => store.applyRun(run));
  daemon.on(Notifications.QUESTION, ({ request }) => store.applyQuestion(request));
  daemon.on(Notifications.EVENT, ({ event }) => void store.applyEvent(event));
  const run = await daemon.request(Requests.RUNS_CREATE, { prompt: 'Say hello', provider: 'scripted', model: 'review.json', start: true });
  await daemon.waitFor('the question', () => store.pendingQuestions()[0]);
  await daemon.waitFor('waiting_for_user', () => store.run(run.id)?.status === RunStatus.WAITING_FOR_USER);

  store.applyRun(await daemon.request(Requests.RUNS_CANCEL, { runId: run.id })); // what Cancel Run does
  const { requests } = await daemon.request(Requests.HITL_LIST, { runId: run.id });
  assert.deepEqual(requests, [], 'the daemon has no question of it pending');
  assert.deepEqual(store.pendingQuestions(), []);
  assert.deepEqual(store.questionsOf(run.id), []);
});
