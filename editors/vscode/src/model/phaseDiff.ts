/**
 * A phase's combined diff as one text, and where each of its lines is in the files it shows:
 * what a comment on a line of it (devfactory/phases/comment) names. Nothing here imports vscode.
 */
import { DiffSide, type PhaseFileDiff } from '../generated/protocol';

export interface DiffPlace {
  path: string;
  /** 1-based, in the file's version on `side`. */
  line: number;
  side: DiffSide;
}

export interface PhaseDiffText {
  text: string;
  /** By 0-based line of `text`: headers have none, context and added lines the new side, removed lines the old. */
  places: Map<number, DiffPlace>;
}

export function phaseDiffText(files: readonly Pick<PhaseFileDiff, 'path' | 'diff'>[]): PhaseDiffText {
  const lines: string[] = [];
  const places = new Map<number, DiffPlace>();
  for (const file of files) {
    let old: number | undefined;
    let next: number | undefined;
    for (const line of file.diff.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)) {
      lines.push(line);
      const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      const mark = line[0];
      if (hunk) {
        old = Number(hunk[1]);
        next = Number(hunk[2]);
      } else if (old !== undefined && next !== undefined && (mark === ' ' || mark === '+')) {
        places.set(lines.length - 1, { path: file.path, line: next++, side: DiffSide.NEW });
        if (mark === ' ') old++;
      } else if (old !== undefined && mark === '-') {
        places.set(lines.length - 1, { path: file.path, line: old++, side: DiffSide.OLD });
      }
    }
  }
  return { text: lines.length ? `${lines.join('\n')}\n` : '(the phase changed nothing)\n', places };
}
