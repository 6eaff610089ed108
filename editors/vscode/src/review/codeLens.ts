/**
 * "Approve · Reject · Diff" above each proposed hunk of an open file. The daemon's diagnostics
 * and code actions mark the same hunks; these lenses are one click instead of Ctrl+. and go
 * through the same devfactory/changes/approve|reject requests as the Runs view.
 */
import * as vscode from 'vscode';
import { hunkPlaces } from '../model/hunks';
import type { RunStore } from '../model/runStore';
import { workspaceRelative } from '../model/workspacePath';
import { CODELENS_SETTING, codeLensEnabled } from '../settings';
import { mappedLines } from './inline';

export class ReviewCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly store: RunStore,
    private readonly root: vscode.Uri,
  ) {
    // The daemon's diagnostics place the hunks (mapped through the user's edits). VS Code asks
    // for lenses again only when this fires, so toggling the setting must fire it too.
    this.subscriptions = [
      store.onDidChange(() => this.changed.fire()),
      vscode.languages.onDidChangeDiagnostics(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(CODELENS_SETTING) && this.changed.fire()),
    ];
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.changed.dispose();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!codeLensEnabled()) return [];
    const relative = workspaceRelative(this.root.fsPath, document.uri.fsPath);
    if (relative === undefined) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const change of this.store.proposedAt(relative)) {
      const run = `run #${change.runId}`;
      const places = hunkPlaces(change, document.lineCount, mappedLines(document.uri, change.id));
      const anchors = places.length ? places.map((p) => ({ line: p.line, hunk: p.hunk.index as number | undefined })) : [{ line: 0, hunk: undefined }];
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
