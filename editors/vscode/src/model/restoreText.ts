/**
 * What Restore Snapshot asks before it writes the workspace. The daemon snapshots the files on
 * disk first, and that snapshot undoes the restore; an edit not saved yet is in no snapshot, and
 * its editor keeps the text over the restored file (saving it undoes the restore for that file).
 * So the workspace's unsaved files are named, and saved before the restore.
 */
/** A modal's question: its message, its detail and the one button that goes ahead. */
export interface ModalQuestion {
  message: string;
  detail: string;
  /** The button that goes ahead (anything else cancels). */
  action: string;
}

export function restoreQuestion(snapshotId: number, unsaved: readonly string[]): ModalQuestion {
  const message = `Restore snapshot #${snapshotId}?`;
  if (unsaved.length === 0) {
    return { message, detail: 'Your files are snapshotted first, so this can be undone.', action: 'Restore' };
  }
  const files = unsaved.length === 1 ? `${unsaved[0]} has unsaved changes` : `${unsaved.length} files have unsaved changes (${unsaved.join(', ')})`;
  return {
    message,
    detail: `${files}: they are saved first, so the snapshot taken before the restore keeps them and can undo it.`,
    action: 'Save and Restore',
  };
}
