// Layer 1: what Approve All and Reject All offer and ask. They used to list every run, ones with
// nothing proposed included, and Reject All dropped a run's changes for good without asking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Change, ChangeStatus, type Run, RunStatus } from '../../src/generated/protocol';
import { rejectAllQuestion } from '../../src/model/decisionText';
import { RunStore } from '../../src/model/runStore';

const run = (id: number, status: RunStatus) => ({ id, status, title: `task ${id}` }) as Run;
const change = (id: number, runId: number, status: ChangeStatus) => ({ id, runId, status, path: `f${id}.py`, hunks: [] }) as unknown as Change;

function storeOf(runs: Run[], changes: Change[]): RunStore {
  const store = new RunStore({ request: () => Promise.reject(new Error('no daemon in this test')) });
  runs.forEach((r) => store.applyRun(r));
  store.applyChanges(changes);
  return store;
}

test('the pickers offer only runs with changes still to decide, newest first', () => {
  const store = storeOf(
    [run(1, RunStatus.COMPLETED), run(2, RunStatus.COMPLETED), run(3, RunStatus.RUNNING), run(4, RunStatus.FAILED)],
    [
      change(10, 1, ChangeStatus.PROPOSED),
      change(11, 1, ChangeStatus.APPLIED),
      change(20, 2, ChangeStatus.APPLIED),
      change(21, 2, ChangeStatus.REJECTED),
      change(30, 3, ChangeStatus.PROPOSED),
      change(31, 3, ChangeStatus.PROPOSED),
    ],
  );
  assert.deepEqual(store.runsWithProposed().map((r) => r.id), [3, 1]);
  assert.deepEqual(store.proposedOf(1).map((c) => c.id), [10]);
  assert.deepEqual(store.proposedOf(3).map((c) => c.id), [30, 31]);
  assert.deepEqual(store.proposedOf(2), []);
  assert.deepEqual(storeOf([run(2, RunStatus.COMPLETED)], [change(20, 2, ChangeStatus.APPLIED)]).runsWithProposed(), []);
});

for (const [title, proposed, message] of [
  ['Say hello', 1, 'Reject 1 proposed change of run #3 (Say hello)?'],
  ['Say hello', 4, 'Reject 4 proposed changes of run #3 (Say hello)?'],
  [undefined, 2, 'Reject 2 proposed changes of run #3?'],
] as const) {
  test(`Reject All asks first and says what it drops: ${message}`, () => {
    assert.deepEqual(rejectAllQuestion(3, title, proposed), {
      message,
      detail: 'Your files stay as they are; a rejected change cannot be approved later.',
      action: 'Reject All',
    });
  });
}
