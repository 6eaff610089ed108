// Layer 1: ChangeTexts, the proposed texts the diff editors and inline hunks show, over a daemon
// whose proposal the test moves on as a run would (its next step, a rewind): a text read before
// the run proposed the file again must not outlive the RunStore hearing of it, or the diff
// editor's Approve would take a proposal the user never saw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change, ChangeDiff } from '../../src/generated/protocol';
import { ChangeTexts } from '../../src/model/changeTexts';
import type { DaemonApi } from '../../src/model/daemonApi';
import { RunStore } from '../../src/model/runStore';

const change = (updatedAt: string) => ({ id: 1, runId: 1, path: 'notes.txt', status: 'proposed', hunks: [], updatedAt }) as unknown as Change;

/** A daemon with one change whose proposal the test sets; counts the diffs read. */
class MovingProposal {
  proposal = { updatedAt: 't1', after: 'one\n' };
  reads = 0;
  readonly api = {
    request: async (): Promise<ChangeDiff> => {
      this.reads += 1;
      return { change: change(this.proposal.updatedAt), diff: '', before: '', after: this.proposal.after };
    },
  } as unknown as DaemonApi;
}

test('a change proposed again is read again once the store hears of it, and said so', async () => {
  const daemon = new MovingProposal();
  const store = new RunStore(daemon.api);
  store.applyChange(change('t1'));
  const texts = new ChangeTexts(daemon.api, store);
  assert.equal((await texts.get(1)).after, 'one\n');
  assert.equal((await texts.get(1)).after, 'one\n');
  assert.equal(daemon.reads, 1, 'read once per proposal');

  const outdated: number[] = [];
  texts.onDidOutdate((changeId) => outdated.push(changeId));
  daemon.proposal = { updatedAt: 't2', after: 'two\n' };
  store.applyChange(change('t2')); // devfactory/changeProposed
  assert.deepEqual(outdated, [1], 'the diff editor showing change 1 is told to read it again');
  assert.equal((await texts.get(1)).after, 'two\n');
  assert.equal(daemon.reads, 2);
});

test('a change the store does not know yet (a code action) is read once, then kept', async () => {
  const daemon = new MovingProposal();
  const store = new RunStore(daemon.api);
  const texts = new ChangeTexts(daemon.api, store);
  assert.equal((await texts.get(1)).after, 'one\n');
  store.applyChange(change('t1')); // the store catches up with the same proposal
  assert.equal((await texts.get(1)).after, 'one\n');
  assert.equal(daemon.reads, 1);
});
