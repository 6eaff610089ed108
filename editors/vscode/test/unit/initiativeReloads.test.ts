// Layer 1: the order of InitiativeStore reloads, with the daemon's answers held back so the
// race is exact: a command's reload overtaken by a notification's must not return (and leave
// the view) before the newer answer is in.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InitiativeTree } from '../../src/generated/protocol';
import type { DaemonApi } from '../../src/model/daemonApi';
import { InitiativeStore } from '../../src/model/initiativeStore';

/** A daemon whose initiatives/get answers wait until the test releases them, in any order. */
class HeldAnswers {
  readonly pending: ((tree: InitiativeTree) => void)[] = [];
  readonly api = {
    request: () => new Promise((resolve) => this.pending.push(resolve)),
  } as unknown as DaemonApi;
}

function treeWith(proposals: number): InitiativeTree {
  return {
    initiative: { id: 1 },
    phases: [],
    tasks: [],
    proposals: Array.from({ length: proposals }, (_, id) => ({ id })),
  } as unknown as InitiativeTree;
}

test('a reload overtaken by a newer one resolves with the newer answer', async () => {
  const daemon = new HeldAnswers();
  const store = new InitiativeStore(daemon.api);
  const command = store.reload(1); // asked before the proposal was accepted ...
  const notification = store.reload(1); // ... and after, by devfactory/initiativeChanged
  let commandDone = false;
  void command.then(() => (commandDone = true));

  daemon.pending[0]!(treeWith(1)); // the older answer arrives first
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(commandDone, false, 'the command waits for the newer answer');
  assert.equal(store.tree(1), undefined, 'the older answer is not kept');

  daemon.pending[1]!(treeWith(0));
  assert.deepEqual((await command)?.proposals, []);
  assert.deepEqual((await notification)?.proposals, []);
  assert.deepEqual(store.tree(1)?.proposals, []);
});

test('a newer answer that arrives first is not replaced by an older one', async () => {
  const daemon = new HeldAnswers();
  const store = new InitiativeStore(daemon.api);
  const older = store.reload(1);
  const newer = store.reload(1);
  daemon.pending[1]!(treeWith(0));
  assert.deepEqual((await newer)?.proposals, []);
  daemon.pending[0]!(treeWith(1));
  assert.deepEqual((await older)?.proposals, []);
  assert.deepEqual(store.tree(1)?.proposals, []);
});
