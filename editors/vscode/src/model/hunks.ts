/**
 * Where a proposed hunk sits in the file as it is now (the run's base version): the 0-based
 * line a CodeLens goes above. Hunk line numbers are 1-based as in a unified diff; a pure
 * insertion (oldLines 0) names the line after which the new text goes.
 */
import type { Change, Hunk } from '../generated/protocol';
import { ChangeStatus } from '../generated/protocol';
import { plural } from './plural';
import { codeBlock } from './untrusted';

export function hunkAnchorLine(hunk: Hunk, lineCount: number): number {
  const line = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
  return Math.max(0, Math.min(line, Math.max(0, lineCount - 1)));
}

/** The hunks of a proposed change still waiting for a decision. */
export function pendingHunks(change: Change): Hunk[] {
  if (change.status !== ChangeStatus.PROPOSED) return [];
  return change.hunks.filter((h) => h.status === ChangeStatus.PROPOSED);
}

/** The change and hunk a daemon diagnostic's code names (`change-4-hunk-1`), if it names one. */
export function parseHunkCode(code: unknown): { changeId: number; hunk: number } | undefined {
  const match = typeof code === 'string' ? /^change-(\d+)-hunk-(\d+)$/.exec(code) : null;
  return match ? { changeId: Number(match[1]), hunk: Number(match[2]) } : undefined;
}

/** A pending hunk and the 0-based line it starts on in the file as it is now. */
export interface HunkPlace {
  hunk: Hunk;
  line: number;
}

/**
 * Where each pending hunk of `change` starts: the line the daemon's diagnostic gives it
 * (`mapped`, by hunk index: mapped through the user's edits since the run started), else its
 * line in the run's base (hunkAnchorLine).
 */
export function hunkPlaces(change: Change, lineCount: number, mapped: ReadonlyMap<number, number> = new Map()): HunkPlace[] {
  return pendingHunks(change).map((hunk) => ({ hunk, line: Math.min(mapped.get(hunk.index) ?? hunkAnchorLine(hunk, lineCount), Math.max(lineCount - 1, 0)) }));
}

/** One line of the editor that shows part of a hunk inline. */
export interface InlineRow {
  /** 0-based line of the document. */
  line: number;
  /** The line goes away (or is replaced). */
  removed: boolean;
  /** What the run proposes here ('' for a removed line with no replacement). */
  text: string;
}

/**
 * How a hunk reads inline: each old line paired with the new line that replaces it, the new
 * lines past the old ones summed up on the last old line; an insertion shows on the line it
 * follows (at the top of the file: the first line). `proposed` is the whole proposed file.
 */
export function inlineRows(place: HunkPlace, proposed: readonly string[], lineCount: number): InlineRow[] {
  const { hunk, line } = place;
  const added = proposed.slice(Math.max(hunk.newStart - 1, 0), Math.max(hunk.newStart - 1, 0) + hunk.newLines);
  const rest = (from: number) => (added.length > from ? `${added.length - from} more: ${added.slice(from).map((l) => l.trim()).join(' ⏎ ')}` : '');
  if (hunk.oldLines === 0) {
    const atEnd = hunk.oldStart >= lineCount;
    return [{ line: atEnd || line === 0 ? line : line - 1, removed: false, text: [added[0]?.trim() ?? '', rest(1)].filter(Boolean).join('  ·  ') }];
  }
  return Array.from({ length: hunk.oldLines }, (_, i) => {
    const last = i === hunk.oldLines - 1;
    const text = [added[i]?.trim() ?? '', last ? rest(hunk.oldLines) : ''].filter(Boolean).join('  ·  ');
    return { line: line + i, removed: true, text };
  });
}

/** The commands a hunk's hover links to: the only ones its trusted Markdown may run. */
export const HOVER_COMMANDS = ['devfactory.approveChange', 'devfactory.rejectChange', 'devfactory.openDiff'];

/**
 * The Markdown of a hunk's hover: the lines the run proposes (`added`, in a code block of the
 * document's language that they cannot close), then Approve, Reject and Diff links. The hover
 * is trusted with HOVER_COMMANDS: a fence in the proposed text that closed the block would add
 * links of its own ("Reject" approving another change).
 */
export function hunkHover(change: Change, hunk: Hunk, added: readonly string[], languageId: string): string {
  const args = (value: unknown[]) => encodeURIComponent(JSON.stringify(value));
  return [
    `**Run #${change.runId} proposes** (hunk ${hunk.index + 1} of ${change.hunks.length}):`,
    added.length ? `\n${codeBlock(added.join('\n'), languageId)}` : `\n*deletes ${plural(hunk.oldLines, 'line')}*`,
    `\n[$(check) Approve](command:devfactory.approveChange?${args([change.id, hunk.index])}) · ` +
      `[$(close) Reject](command:devfactory.rejectChange?${args([change.id, hunk.index])}) · ` +
      `[$(diff) Diff](command:devfactory.openDiff?${args([change.id])})`,
  ].join('\n');
}
