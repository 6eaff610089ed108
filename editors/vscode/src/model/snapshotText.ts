/**
 * What Create and Restore Snapshot ask first. The daemon snapshots the files on disk: an edit not
 * saved yet is in no snapshot (and on a restore its editor keeps the text over the restored file,
 * so saving it undoes the restore for that file). So the workspace's unsaved files are named, and
 * saved before the snapshot or the restore.
 */
import type { Snapshot, SnapshotRestoreResult } from '../generated/protocol';
import type { ModalQuestion } from './modalQuestion';
import { plural } from './plural';

/** `app.py has unsaved changes`, `2 files have unsaved changes (a.py, b.py)`. */
function unsavedText(unsaved: readonly string[]): string {
  return unsaved.length === 1 ? `${unsaved[0]} has unsaved changes` : `${unsaved.length} files have unsaved changes (${unsaved.join(', ')})`;
}

export function restoreQuestion(snapshotId: number, unsaved: readonly string[]): ModalQuestion {
  const message = `Restore snapshot #${snapshotId}?`;
  if (unsaved.length === 0) {
    return { message, detail: 'Your files are snapshotted first, so this can be undone.', action: 'Restore' };
  }
  return {
    message,
    detail: `${unsavedText(unsaved)}: they are saved first, so the snapshot taken before the restore keeps them and can undo it.`,
    action: 'Save and Restore',
  };
}

/** Undefined when nothing is unsaved: the snapshot holds the workspace as the editors show it. */
export function snapshotQuestion(unsaved: readonly string[]): ModalQuestion | undefined {
  if (unsaved.length === 0) return undefined;
  return {
    message: 'Save before the snapshot?',
    detail: `${unsavedText(unsaved)}: a snapshot holds the files on disk, so they are saved first to be in it.`,
    action: 'Save and Snapshot',
  };
}

export function snapshotTakenText(snapshot: Pick<Snapshot, 'id' | 'filesChanged'>): string {
  return `DevFactory: snapshot #${snapshot.id} taken (${plural(snapshot.filesChanged, 'changed file')}).`;
}

export function restoredText(result: SnapshotRestoreResult): string {
  return `DevFactory: restored #${result.restored.id} (${plural(result.files.length, 'file')}); undo with snapshot #${result.safety.id}.`;
}
