// Layer 1: what the user is told after approved changes were written. Apply Initiative Result
// said "applied (N changes)" and nothing of the changes that conflicted, while the initiative
// was marked completed: the conflicts must be counted and pointed at, as Approve does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InitiativeApplied } from '../../src/generated/protocol';
import { conflictText, initiativeAppliedText } from '../../src/model/applyText';

const result = (applied: number[], conflicts: number[], snapshotId: number | null) =>
  ({ initiative: { name: 'Add notes' }, runId: 7, applied, conflicts, snapshotId }) as unknown as InitiativeApplied;

for (const [name, given, expected] of [
  ['every change applied', result([1, 2], [], 4), 'DevFactory: Add notes: 2 changes applied; restoring snapshot #4 undoes it.'],
  [
    'a change conflicted',
    result([1], [2], 4),
    'DevFactory: Add notes: 1 change applied; 1 conflict with your edits left unwritten (run #7 in the Runs view); restoring snapshot #4 undoes it.',
  ],
  ['nothing was written', result([], [1, 2], null), 'DevFactory: Add notes: 0 changes applied; 2 conflicts with your edits left unwritten (run #7 in the Runs view).'],
] as const) {
  test(`Apply Initiative Result: ${name}`, () => assert.equal(initiativeAppliedText(given), expected));
}

test('a conflict names its files', () => {
  assert.equal(
    conflictText(['app.py']),
    'DevFactory: app.py changed since the run proposed it; nothing was written to it. Resolve it in the merge editor, then Mark Resolved.',
  );
  assert.match(conflictText(['app.py', 'README.md']), /^DevFactory: app\.py, README\.md changed since the run proposed them; nothing was written to them\./);
});
