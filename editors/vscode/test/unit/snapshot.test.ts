// Layer 1: what Create and Restore Snapshot ask and say, and which editors they count as the
// workspace's. Unsaved edits are in no snapshot: the questions must name them and save them
// first (Create Snapshot left them out without a word), and counts agree with their nouns.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Snapshot } from '../../src/generated/protocol';
import { restoredText, restoreQuestion, snapshotQuestion, snapshotTakenText } from '../../src/model/snapshotText';
import { workspaceRelative } from '../../src/model/workspacePath';

test('with nothing unsaved, Restore restores: the snapshot the daemon takes first undoes it', () => {
  assert.deepEqual(restoreQuestion(3, []), {
    message: 'Restore snapshot #3?',
    detail: 'Your files are snapshotted first, so this can be undone.',
    action: 'Restore',
  });
});

for (const [unsaved, named] of [
  [['app.py'], 'app.py has unsaved changes'],
  [['app.py', 'src/util.py'], '2 files have unsaved changes (app.py, src/util.py)'],
] as const) {
  test(`unsaved edits are named and saved first: ${unsaved.join(', ')}`, () => {
    const question = restoreQuestion(3, unsaved);
    assert.equal(question.action, 'Save and Restore');
    assert.equal(question.detail, `${named}: they are saved first, so the snapshot taken before the restore keeps them and can undo it.`);
  });
}

test('with nothing unsaved, Create Snapshot asks nothing', () => assert.equal(snapshotQuestion([]), undefined));

for (const [unsaved, named] of [
  [['app.py'], 'app.py has unsaved changes'],
  [['app.py', 'src/util.py'], '2 files have unsaved changes (app.py, src/util.py)'],
] as const) {
  test(`Create Snapshot names unsaved edits and saves them first: ${unsaved.join(', ')}`, () => {
    assert.deepEqual(snapshotQuestion(unsaved), {
      message: 'Save before the snapshot?',
      detail: `${named}: a snapshot holds the files on disk, so they are saved first to be in it.`,
      action: 'Save and Snapshot',
    });
  });
}

for (const [filesChanged, said] of [
  [0, 'DevFactory: snapshot #4 taken (0 changed files).'],
  [1, 'DevFactory: snapshot #4 taken (1 changed file).'],
  [3, 'DevFactory: snapshot #4 taken (3 changed files).'],
] as const) {
  test(`a snapshot's count agrees with its noun: ${filesChanged}`, () => assert.equal(snapshotTakenText({ id: 4, filesChanged }), said));
}

test("a restore's count agrees with its noun", () => {
  const snapshot = (id: number) => ({ id }) as Snapshot;
  assert.equal(restoredText({ restored: snapshot(2), safety: snapshot(5), files: ['app.py'] }), 'DevFactory: restored #2 (1 file); undo with snapshot #5.');
  assert.equal(restoredText({ restored: snapshot(2), safety: snapshot(5), files: ['a', 'b'] }), 'DevFactory: restored #2 (2 files); undo with snapshot #5.');
});

const root = join('/work', 'proj');
for (const [name, path, expected] of [
  ['a file inside', join(root, 'src', 'app.py'), 'src/app.py'],
  ['a file whose name starts with two dots', join(root, '..notes'), '..notes'],
  ['the folder itself', root, undefined],
  ['a sibling folder sharing the prefix', join('/work', 'project', 'app.py'), undefined],
  ['the parent folder', join(root, '..', 'app.py'), undefined],
] as const) {
  test(`workspace-relative path: ${name}`, () => assert.equal(workspaceRelative(root, path), expected));
}
