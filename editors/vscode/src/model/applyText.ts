/**
 * What the user is told after approved changes were written to the workspace: a change whose
 * file moved on since its run proposed it is a conflict, and nothing of it was written. Approve
 * (one change or a run's) and Apply Initiative Result both say so, the same way.
 */
import type { InitiativeApplied } from '../generated/protocol';
import { plural } from './plural';


export function conflictText(paths: readonly string[]): string {
  const them = paths.length === 1 ? 'it' : 'them';
  return `DevFactory: ${paths.join(', ')} changed since the run proposed ${them}; nothing was written to ${them}. Resolve ${them} in the merge editor, then Mark Resolved.`;
}

export function initiativeAppliedText(result: InitiativeApplied): string {
  const { initiative, applied, conflicts, snapshotId } = result;
  const notWritten = conflicts.length ? `; ${plural(conflicts.length, 'conflict')} with your edits left unwritten (run #${result.runId} in the Runs view)` : '';
  const undo = snapshotId === null || snapshotId === undefined ? '' : `; restoring snapshot #${snapshotId} undoes it`;
  return `DevFactory: ${initiative.name}: ${plural(applied.length, 'change')} applied${notWritten}${undo}.`;
}
