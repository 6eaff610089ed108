/**
 * Where a proposed hunk sits in the file as it is now (the run's base version): the 0-based
 * line a CodeLens goes above. Hunk line numbers are 1-based as in a unified diff; a pure
 * insertion (oldLines 0) names the line after which the new text goes.
 */
import type { Change, Hunk } from '../generated/protocol';
import { ChangeStatus } from '../generated/protocol';

export function hunkAnchorLine(hunk: Hunk, lineCount: number): number {
  const line = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
  return Math.max(0, Math.min(line, Math.max(0, lineCount - 1)));
}

/** The hunks of a proposed change still waiting for a decision. */
export function pendingHunks(change: Change): Hunk[] {
  if (change.status !== ChangeStatus.PROPOSED) return [];
  return change.hunks.filter((h) => h.status === ChangeStatus.PROPOSED);
}
