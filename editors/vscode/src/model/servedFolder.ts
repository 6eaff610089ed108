/**
 * The daemon serves one folder per window, the first (its index, runs, snapshots and reviews
 * are that folder's). A multi-root window's other folders are left out, so the user is told
 * once which folder is served, and again only when that changes.
 */
import { plural } from './plural';

export interface Folder {
  name: string;
  path: string;
}

/** Undefined with one folder, or when `toldFor` (the folder the user was last told about) is still the served one. */
export function otherFoldersNotice(folders: readonly Folder[], toldFor: string | undefined): string | undefined {
  const [served, ...others] = folders;
  if (!served || others.length === 0 || toldFor === served.path) return undefined;
  return (
    `DevFactory works on ${served.name} (${served.path}) only, the window's first folder; ` +
    `it leaves out ${plural(others.length, 'other folder')} (${others.map((f) => f.name).join(', ')}). ` +
    'To work on another, put it first in the workspace and reload the window.'
  );
}
