/**
 * "Approve · Reject · Diff" above each proposed hunk of an open file. The daemon's diagnostics
 * and code actions mark the same hunks; these lenses are one click instead of Ctrl+. and go
 * through the same devfactory/changes/approve|reject requests as the Runs view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hunkAnchorLine, pendingHunks } from '../model/hunks';
import type { RunStore } from '../model/runStore';
import { codeLensEnabled } from '../settings';

export class ReviewCodeLensProvider implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(
    private readonly store: RunStore,
    private readonly root: vscode.Uri,
  ) {
    this.onDidChangeCodeLenses = store.onDidChange;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!codeLensEnabled()) return [];
    const relative = path.relative(this.root.fsPath, document.uri.fsPath).split(path.sep).join('/');
    if (relative.startsWith('..')) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const change of this.store.proposedAt(relative)) {
      const run = `run #${change.runId}`;
      const hunks = pendingHunks(change);
      const anchors = hunks.length
        ? hunks.map((h) => ({ line: hunkAnchorLine(h, document.lineCount), hunk: h.index as number | undefined }))
        : [{ line: 0, hunk: undefined }];
      for (const { line, hunk } of anchors) {
        const range = new vscode.Range(line, 0, line, 0);
        const args = hunk === undefined ? [change.id] : [change.id, hunk];
        lenses.push(
          new vscode.CodeLens(range, { title: '$(check) Approve', tooltip: `Apply this change proposed by ${run}`, command: 'devfactory.approveChange', arguments: args }),
          new vscode.CodeLens(range, { title: '$(close) Reject', tooltip: `Discard this change proposed by ${run}`, command: 'devfactory.rejectChange', arguments: args }),
          new vscode.CodeLens(range, { title: '$(diff) Diff', tooltip: `Compare the file with ${run}'s version`, command: 'devfactory.openDiff', arguments: [change.id] }),
        );
      }
    }
    return lenses;
  }
}
