/**
 * Review where you look: each proposed hunk of a visible file is drawn in the editor. The
 * lines it replaces get the diff editor's removed-line background, and what the run proposes
 * for each of them follows the line in ghost text (model/hunks.ts: inlineRows). Hovering a
 * hunk shows its proposed lines whole, with Approve, Reject and Diff links; the CodeLens above
 * it offers the same. The proposed text comes from ChangeTexts.
 */
import * as vscode from 'vscode';
import type { Change } from '../generated/protocol';
import type { ChangeTexts } from '../model/changeTexts';
import { HOVER_COMMANDS, hunkHover, hunkPlaces, inlineRows, parseHunkCode } from '../model/hunks';
import type { RunStore } from '../model/runStore';
import { workspaceRelative } from '../model/workspacePath';
import { inlineReviewEnabled } from '../settings';

const REFRESH_MS = 50;

/** What one editor shows for one hunk (tests read it). */
export interface InlineHunk {
  changeId: number;
  hunk: number;
  rows: { line: number; removed: boolean; text: string }[];
  hover: string;
}

/** The line of each hunk of a change the daemon's diagnostics give (mapped through the user's edits). */
export function mappedLines(uri: vscode.Uri, changeId: number): Map<number, number> {
  const mapped = new Map<number, number>();
  for (const diagnostic of vscode.languages.getDiagnostics(uri)) {
    const code = typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
    const named = diagnostic.source === 'devfactory' ? parseHunkCode(code) : undefined;
    if (named?.changeId === changeId) mapped.set(named.hunk, diagnostic.range.start.line);
  }
  return mapped;
}

export class InlineProposals implements vscode.Disposable {
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly proposed = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('gitDecoration.addedResourceForeground'), fontStyle: 'italic', margin: '0 0 0 3ch' },
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly shown = new Map<string, InlineHunk[]>();
  private readonly subscriptions: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly texts: ChangeTexts,
    private readonly store: RunStore,
    private readonly root: vscode.Uri,
  ) {
    this.subscriptions = [
      store.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.languages.onDidChangeDiagnostics(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('devfactory.review.inline') && this.schedule()),
    ];
    this.schedule();
  }

  /** What the editor of `uri` shows inline right now. */
  rendered(uri: vscode.Uri): InlineHunk[] {
    return this.shown.get(uri.toString()) ?? [];
  }

  /** Redraw every visible editor (at most every REFRESH_MS). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const editor of vscode.window.visibleTextEditors) void this.render(editor).catch(() => undefined);
    }, REFRESH_MS);
  }

  private async render(editor: vscode.TextEditor): Promise<void> {
    const { document } = editor;
    const relative = document.uri.scheme === 'file' ? workspaceRelative(this.root.fsPath, document.uri.fsPath) : undefined;
    const changes = relative !== undefined && inlineReviewEnabled() ? this.store.proposedAt(relative) : [];
    const hunks = (await Promise.all(changes.map((change) => this.hunksOf(document, change)))).flat();
    const removed: vscode.DecorationOptions[] = [];
    const proposed: vscode.DecorationOptions[] = [];
    for (const item of hunks) {
      const hoverMessage = new vscode.MarkdownString(item.hover, true);
      hoverMessage.isTrusted = { enabledCommands: HOVER_COMMANDS };
      for (const row of item.rows) {
        const range = document.lineAt(row.line).range;
        // One hover per row: on the removed line, else on the proposed text.
        if (row.removed) removed.push({ range, hoverMessage });
        if (row.text) {
          const after = { contentText: `⇢ ${row.text}` };
          proposed.push({ range: new vscode.Range(range.end, range.end), hoverMessage: row.removed ? undefined : hoverMessage, renderOptions: { after } });
        }
      }
    }
    editor.setDecorations(this.removed, removed);
    editor.setDecorations(this.proposed, proposed);
    this.shown.set(document.uri.toString(), hunks);
  }

  private async hunksOf(document: vscode.TextDocument, change: Change): Promise<InlineHunk[]> {
    const lines = ((await this.texts.get(change.id)).after ?? '').split(/\r?\n/);
    return hunkPlaces(change, document.lineCount, mappedLines(document.uri, change.id)).map((place) => {
      const { hunk } = place;
      const added = lines.slice(Math.max(hunk.newStart - 1, 0), Math.max(hunk.newStart - 1, 0) + hunk.newLines);
      const hover = hunkHover(change, hunk, added, document.languageId);
      return { changeId: change.id, hunk: hunk.index, rows: inlineRows(place, lines, document.lineCount), hover };
    });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscriptions.forEach((s) => s.dispose());
    this.removed.dispose();
    this.proposed.dispose();
  }
}
