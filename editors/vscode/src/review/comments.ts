/**
 * Review comments on proposed lines, through VS Code's Comments API: the proposed side of a
 * change's diff (`devfactory-diff:…&side=after`) takes comments on any line, each saved with
 * devfactory/changes/comment (line numbers are the proposed file's); a thread's Resolve button
 * sends devfactory/changes/resolveComment. "Request Changes" (commands/review.ts) sends the open
 * comments back to the run, and the threads it answered show resolved.
 */
import * as vscode from 'vscode';
import { Requests, type ReviewComment } from '../generated/protocol';
import type { DaemonApi } from '../model/daemonApi';
import { diffTarget } from './diff';

const OPEN = 'devfactory.open';
const RESOLVED = 'devfactory.resolved';

class SavedComment implements vscode.Comment {
  readonly body: vscode.MarkdownString;
  readonly mode = vscode.CommentMode.Preview;
  readonly author = { name: 'You' };
  readonly timestamp: Date;

  constructor(readonly saved: ReviewComment) {
    this.body = new vscode.MarkdownString(saved.body);
    this.timestamp = new Date(saved.createdAt);
  }

  get label(): string | undefined {
    return this.saved.resolved ? 'resolved' : undefined;
  }
}

export class ReviewComments implements vscode.Disposable {
  readonly controller = vscode.comments.createCommentController('devfactory.review', 'DevFactory review');
  /** Threads by the document they are on (`uri.toString()`), then by 0-based line. */
  private readonly threads = new Map<string, Map<number, vscode.CommentThread>>();

  constructor(private readonly api: DaemonApi) {
    this.controller.options = { prompt: 'Comment for the agent…', placeHolder: 'What should the run change here?' };
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (document) =>
        diffTarget(document.uri)?.side === 'after' ? [new vscode.Range(0, 0, Math.max(document.lineCount - 1, 0), 0)] : [],
    };
  }

  /** Show the comments of the change whose proposed side is `uri` (when its diff opens). */
  async load(uri: vscode.Uri): Promise<void> {
    const target = diffTarget(uri);
    if (!target) return;
    const { comments } = await this.api.request(Requests.CHANGES_COMMENTS, { changeId: target.changeId, includeResolved: true });
    this.clear(uri);
    for (const comment of comments) this.show(this.thread(uri, comment.line - 1), [comment]);
  }

  /** The reply button of a thread: save `reply.text` as a comment on the thread's line. */
  async add(reply: vscode.CommentReply): Promise<ReviewComment | undefined> {
    const { thread, text } = reply;
    const target = diffTarget(thread.uri);
    if (!target || !text.trim()) return undefined;
    const line = thread.range?.start.line ?? 0;
    const saved = await this.api.request(Requests.CHANGES_COMMENT, { changeId: target.changeId, line: line + 1, body: text });
    this.lines(thread.uri).set(line, thread);
    this.show(thread, [saved]);
    return saved;
  }

  /** A thread's Resolve button: resolve every comment in it. */
  async resolve(thread: vscode.CommentThread): Promise<void> {
    const resolved = await Promise.all(
      thread.comments.filter((c): c is SavedComment => c instanceof SavedComment && !c.saved.resolved).map((c) =>
        this.api.request(Requests.CHANGES_RESOLVE_COMMENT, { commentId: c.saved.id, resolved: true }),
      ),
    );
    this.show(thread, resolved);
  }

  /** After Request Changes: the comments the daemon resolved show resolved. */
  markResolved(commentIds: readonly number[]): void {
    const ids = new Set(commentIds);
    for (const thread of this.allThreads()) {
      const answered = thread.comments.filter((c): c is SavedComment => c instanceof SavedComment && ids.has(c.saved.id));
      this.show(thread, answered.map((c) => ({ ...c.saved, resolved: true })));
    }
  }

  /** Every thread shown, with the saved comments in it (tests read them). */
  allThreads(): vscode.CommentThread[] {
    return [...this.threads.values()].flatMap((lines) => [...lines.values()]);
  }

  /** Add or update `comments` in `thread` and set its state from them. */
  private show(thread: vscode.CommentThread, comments: readonly ReviewComment[]): void {
    const byId = new Map(thread.comments.filter((c): c is SavedComment => c instanceof SavedComment).map((c) => [c.saved.id, c.saved]));
    for (const comment of comments) byId.set(comment.id, comment);
    const all = [...byId.values()].sort((a, b) => a.id - b.id);
    thread.comments = all.map((c) => new SavedComment(c));
    const open = all.some((c) => !c.resolved);
    thread.contextValue = open ? OPEN : RESOLVED;
    thread.state = open ? vscode.CommentThreadState.Unresolved : vscode.CommentThreadState.Resolved;
    thread.label = open ? 'Open: goes back to the run with Request Changes' : 'Resolved';
    thread.collapsibleState = open ? vscode.CommentThreadCollapsibleState.Expanded : vscode.CommentThreadCollapsibleState.Collapsed;
  }

  private lines(uri: vscode.Uri): Map<number, vscode.CommentThread> {
    const key = uri.toString();
    let lines = this.threads.get(key);
    if (!lines) this.threads.set(key, (lines = new Map()));
    return lines;
  }

  private thread(uri: vscode.Uri, line: number): vscode.CommentThread {
    const lines = this.lines(uri);
    let thread = lines.get(line);
    if (!thread) {
      thread = this.controller.createCommentThread(uri, new vscode.Range(line, 0, line, 0), []);
      lines.set(line, thread);
    }
    return thread;
  }

  private clear(uri: vscode.Uri): void {
    this.lines(uri).forEach((thread) => thread.dispose());
    this.threads.delete(uri.toString());
  }

  dispose(): void {
    this.threads.forEach((lines) => lines.forEach((thread) => thread.dispose()));
    this.controller.dispose();
  }
}
