// Layer 1: what Restore Snapshot asks before the daemon writes the workspace, and which editors
// it counts as the workspace's. Unsaved edits are in no snapshot: the question must name them
// and save them first instead of promising that "your current state" can be restored.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreQuestion } from '../../src/model/restoreText';
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
