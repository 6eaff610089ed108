// Layer 1, against the real daemon: the InitiativeStore follows a yolo initiative from
// devfactory/initiativeChanged alone: the plan accepted as it comes, the tasks and the runs
// behind them, the phases completed, the result waiting to be applied.
// Needs the daemon's factory feature (devfactory/initiatives/*).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { InitiativeMode, InitiativeStatus, Notifications, PhaseStatus, Requests, TaskStatus } from '../../src/generated/protocol';
import { InitiativeStore } from '../../src/model/initiativeStore';
import { TestDaemon } from '../support/daemon';
import { reviewWorkspace } from '../support/workspace';

let workspace: string;
let daemon: TestDaemon;
let store: InitiativeStore;
/** Reloads still in flight: the daemon stops only after they end (else they fail against it). */
const reloading = new Set<Promise<unknown>>();

before(async () => {
  workspace = reviewWorkspace();
  daemon = await TestDaemon.start(workspace);
  store = new InitiativeStore(daemon, (what, error) => {
    throw new Error(`could not load ${what}: ${String(error)}`);
  });
  daemon.on(Notifications.INITIATIVE_CHANGED, ({ initiative }) => {
    const reload = store.reload(initiative.id).finally(() => reloading.delete(reload));
    reloading.add(reload);
  });
  await store.refresh();
});

after(async () => {
  daemon.mute();
  await Promise.all(reloading);
  await daemon.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test('a yolo initiative fills the store from its notifications', async () => {
  assert.deepEqual(store.initiatives(), []);
  const created = await daemon.request(Requests.INITIATIVES_CREATE, { goal: 'Notes', mode: InitiativeMode.YOLO, provider: 'scripted', model: 'factory.json' });
  const done = await daemon.waitFor(
    'the result to wait for its review',
    () => store.tree(created.id)?.initiative.status === InitiativeStatus.PENDING_REVIEW && store.tree(created.id),
    60_000,
  );
  assert.deepEqual(store.initiatives().map((i) => i.id), [created.id]);
  assert.deepEqual(
    done.phases.map((p) => [p.name, p.status]),
    [
      ['Planning', PhaseStatus.COMPLETED],
      ['Write', PhaseStatus.COMPLETED],
    ],
  );
  const [write, polish] = store.tasksOf(done.phases[1]!.id);
  assert.equal(write?.title, 'Write the notes');
  assert.equal(polish?.status, TaskStatus.COMPLETED);
  assert.equal(write?.status, TaskStatus.COMPLETED);
  assert.equal(write?.summary, 'NOTES.md written');
  assert.equal(write?.runIds.length, 1);
  assert.deepEqual(store.task(write!.id), write);
  assert.deepEqual(done.proposals, [], 'yolo accepts every proposal');
});
