/** Where a file is in the workspace, as the daemon names it (changes, snapshots). */
import { isAbsolute, relative, sep } from 'node:path';

/** `fsPath` relative to the workspace `root` with `/` separators, or undefined outside it. */
export function workspaceRelative(root: string, fsPath: string): string | undefined {
  const rel = relative(root, fsPath);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}
