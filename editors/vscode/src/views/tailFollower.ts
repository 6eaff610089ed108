/**
 * Keeps run consoles scrolled to their end while lines arrive, as a terminal does: a console
 * follows its tail until the user scrolls up, and again once they scroll back down. A visible
 * console is revealed when its document has changed (the new text reaches the editor some time
 * after the change is announced, so never on a timer); a hidden one when it is shown again.
 */
import * as vscode from 'vscode';

export class TailFollower implements vscode.Disposable {
  /** Consoles (URI strings) that follow their tail. */
  private readonly following = new Set<string>();
  /** Line count of each console when its end was last revealed: scrolling above it stops following. */
  private readonly revealedAt = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly scheme: string) {
    this.subscriptions = [
      vscode.workspace.onDidChangeTextDocument(({ document }) => this.followed(document.uri).forEach((e) => this.reveal(e))),
      vscode.window.onDidChangeVisibleTextEditors((editors) =>
        editors.filter((e) => this.followed(e.document.uri).includes(e)).forEach((e) => this.reveal(e)),
      ),
      vscode.window.onDidChangeTextEditorVisibleRanges(({ textEditor, visibleRanges }) => this.scrolled(textEditor, visibleRanges)),
    ];
  }

  /** Follow a console just opened, from its end. */
  start(editor: vscode.TextEditor): void {
    this.following.add(editor.document.uri.toString());
    this.reveal(editor);
  }

  /** The visible editors of a console that follows its tail. */
  private followed(uri: vscode.Uri): vscode.TextEditor[] {
    if (uri.scheme !== this.scheme || !this.following.has(uri.toString())) return [];
    return vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri.toString());
  }

  private scrolled(editor: vscode.TextEditor, ranges: readonly vscode.Range[]): void {
    const key = editor.document.uri.toString();
    const last = ranges[ranges.length - 1];
    if (editor.document.uri.scheme !== this.scheme || !last) return;
    const end = this.revealedAt.get(key) ?? editor.document.lineCount;
    if (last.end.line >= end - 2) this.following.add(key);
    else this.following.delete(key);
  }

  private reveal(editor: vscode.TextEditor): void {
    const lines = editor.document.lineCount;
    this.revealedAt.set(editor.document.uri.toString(), lines);
    const end = new vscode.Position(Math.max(0, lines - 1), 0);
    editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}
