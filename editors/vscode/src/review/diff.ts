/**
 * Diffs of proposed changes: `vscode.diff` between the file as it is now and the version a run
 * proposes, the latter served from devfactory/changes/diff by a TextDocumentContentProvider
 * (`devfactory-diff:/<path>?change=<id>&side=before|after`). The diff editor's title offers
 * Approve and Reject (package.json's `editor/title` menu, on this scheme). A conflict opens in
 * the merge editor (base, yours, the run's) with your file as the result. The texts come from
 * ChangeTexts: an open diff follows a change the run proposes again.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ChangeAction } from '../generated/protocol';
import type { ChangeTexts } from '../model/changeTexts';

export const DIFF_SCHEME = 'devfactory-diff';

type Side = 'before' | 'after' | 'yours';

/** The change and side a `devfactory-diff:` URI shows, or undefined for any other URI. */
export function diffTarget(uri: vscode.Uri): { changeId: number; side: Side } | undefined {
  if (uri.scheme !== DIFF_SCHEME) return undefined;
  const params = new URLSearchParams(uri.query);
  const changeId = Number(params.get('change'));
  const side = params.get('side');
  return Number.isInteger(changeId) && (side === 'before' || side === 'after' || side === 'yours') ? { changeId, side } : undefined;
}

export class DiffProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  /** The user's text of a conflicted file when its merge editor opened (its left input). */
  private readonly yours = new Map<number, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  private readonly opened = new vscode.EventEmitter<vscode.Uri>();
  /** Fires with the proposed side's URI each time a diff opens (comments load on it). */
  readonly onDidOpen = this.opened.event;

  constructor(
    private readonly texts: ChangeTexts,
    private readonly root: vscode.Uri,
  ) {
    this.subscriptions = [
      vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, this),
      texts.onDidOutdate((changeId) => this.reread(changeId)),
    ];
  }

  /** Open the diff of a change: current file (left) against the run's proposal (right). */
  async open(changeId: number): Promise<void> {
    const { change } = await this.texts.get(changeId);
    const current = vscode.Uri.joinPath(this.root, change.path);
    const left = change.action === ChangeAction.CREATE ? this.uri(change.path, changeId, 'before') : current;
    const right = this.uri(change.path, changeId, 'after');
    this.changed.fire(right);
    const title = `${path.basename(change.path)} (current ↔ run #${change.runId}, ${change.status})`;
    await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
    this.opened.fire(right);
  }

  /**
   * Resolve a conflict in VS Code's merge editor: the run's base, your text as it is now and
   * the run's proposal, merged into your file; Mark Resolved tells the daemon when it is done.
   */
  async openMerge(changeId: number): Promise<void> {
    const { change } = await this.texts.get(changeId);
    const output = vscode.Uri.joinPath(this.root, change.path);
    const document = await vscode.workspace.openTextDocument(output);
    this.yours.set(changeId, document.getText());
    const sides = (['before', 'yours', 'after'] as const).map((side) => this.uri(change.path, changeId, side));
    sides.forEach((uri) => this.changed.fire(uri));
    await vscode.commands.executeCommand('_open.mergeEditor', {
      base: sides[0],
      input1: { uri: sides[1], title: 'Yours', description: 'your file now', detail: change.path },
      input2: { uri: sides[2], title: `Run #${change.runId}`, description: 'what the run proposes', detail: change.path },
      output,
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const target = diffTarget(uri);
    if (!target) return '';
    if (target.side === 'yours') return this.yours.get(target.changeId) ?? '';
    const diff = await this.texts.get(target.changeId);
    return (target.side === 'before' ? diff.before : diff.after) ?? '';
  }

  /** Show the run's new proposal in the open documents of a change (not "yours": a snapshot). */
  private reread(changeId: number): void {
    for (const { uri } of vscode.workspace.textDocuments) {
      const target = diffTarget(uri);
      if (target?.changeId === changeId && target.side !== 'yours') this.changed.fire(uri);
    }
  }

  private uri(relativePath: string, changeId: number, side: Side): vscode.Uri {
    return vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/${relativePath}`, query: `change=${changeId}&side=${side}` });
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.changed.dispose();
    this.opened.dispose();
  }
}
