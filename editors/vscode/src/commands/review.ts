/**
 * Review commands: approve / reject / diff of proposed changes (from the Runs view, a CodeLens,
 * a hover or the diff editor's title), conflicts (the merge editor, then Mark Resolved),
 * comments on proposed lines, and the run-level loop:
 * Request Changes, Submit Review, Commit and Push (refused by the daemon until a review
 * approved the run; the warning says why and offers the review).
 */
import * as vscode from 'vscode';
import {
  ChangeStatus,
  type ChangeDecisionParams,
  type ChangeDecisionResult,
  ErrorCodes,
  type GitPushResult,
  Requests,
  ReviewDecision,
  type RunReview,
} from '../generated/protocol';
import { showInformationMessage, showInputBox, showWarningMessage } from '../messages';
import { conflictText } from '../model/applyText';
import { NOTHING_PROPOSED, nothingProposedOf, rejectAllQuestion } from '../model/decisionText';
import { plural } from '../model/plural';
import { diffTarget } from '../review/diff';
import type { RunsNode } from '../views/runsTree';
import { pickRun, pickRunAmong, registerCommand, type RunArg, type Services } from './services';

/** A change as commands receive it: an id, a Runs view node, or a diff editor's resource. */
type ChangeArg = RunsNode | number | vscode.Uri;

export function registerReviewCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommand('approveChange', (arg: ChangeArg, hunk?: unknown) => decide(s, Requests.CHANGES_APPROVE, changeParams(arg, hunk))),
    registerCommand('rejectChange', (arg: ChangeArg, hunk?: unknown) => decide(s, Requests.CHANGES_REJECT, changeParams(arg, hunk))),
    registerCommand('approveAll', (arg: RunArg) => decideAll(s, Requests.CHANGES_APPROVE, arg)),
    registerCommand('rejectAll', (arg: RunArg) => decideAll(s, Requests.CHANGES_REJECT, arg)),
    registerCommand('openDiff', (arg: ChangeArg) => s.diffs.open(changeIdOf(arg))),
    registerCommand('resolveConflict', (arg: ChangeArg) => s.diffs.openMerge(changeIdOf(arg))),
    registerCommand('markResolved', async (arg: ChangeArg) => {
      const change = await s.client.request(Requests.CHANGES_RESOLVE, { changeId: changeIdOf(arg) });
      s.store.applyChange(change);
      const kept = change.hunks.filter((h) => h.status === ChangeStatus.REJECTED).length;
      void showInformationMessage(
        `DevFactory: ${change.path} resolved${kept ? ` (${plural(kept, 'hunk')} kept as yours)` : ''}.`,
      );
      return change;
    }),
    registerCommand('addComment', (reply: vscode.CommentReply) => s.comments.add(reply)),
    registerCommand('resolveComments', (thread: vscode.CommentThread) => s.comments.resolve(thread)),
    registerCommand('requestChanges', (arg: RunArg, note?: string) => requestChanges(s, arg, note)),
    registerCommand('submitReview', (arg: RunArg, decision?: ReviewDecision, notes?: string) => submitReview(s, arg, decision, notes)),
    registerCommand('commitRun', async (arg: RunArg, message?: string) => {
      const runId = await pickRun(s, arg, undefined, 'Commit the worktree of which run?');
      const text =
        runId === undefined || message !== undefined
          ? message
          : await showInputBox({ title: `Commit run #${runId}`, prompt: "Commit message (empty: the run's title and summary)", ignoreFocusOut: true });
      if (runId === undefined || text === undefined) return undefined;
      const result = await s.client.request(Requests.GIT_COMMIT, { runId, message: text.trim() || null });
      void showInformationMessage(`DevFactory: committed ${result.commitSha.slice(0, 12)} on ${result.branch}.`);
      return result;
    }),
    registerCommand('pushRun', (arg: RunArg, remote?: string) => pushRun(s, arg, remote)),
  ];
}

function changeIdOf(arg: ChangeArg): number {
  if (typeof arg === 'number') return arg;
  if (arg instanceof vscode.Uri) {
    const target = diffTarget(arg);
    if (!target) throw new Error(`${arg.toString()} is not a proposed change`);
    return target.changeId;
  }
  if (arg && 'changeId' in arg) return arg.changeId;
  throw new Error('which change? Run this from a change in the Runs view, a CodeLens or a diff');
}

/** `hunk` is a hunk index from a CodeLens; menus pass other things there (the editor group). */
function changeParams(arg: ChangeArg, hunk?: unknown): ChangeDecisionParams {
  const changeId = changeIdOf(arg);
  return typeof hunk === 'number' ? { changeIds: [changeId], hunks: [hunk] } : { changeIds: [changeId] };
}

/** Approve or reject every proposed change of a run; rejecting asks first (it cannot be undone). */
async function decideAll(
  s: Services,
  method: typeof Requests.CHANGES_APPROVE | typeof Requests.CHANGES_REJECT,
  arg: RunArg,
): Promise<ChangeDecisionResult | undefined> {
  const verb = method === Requests.CHANGES_APPROVE ? 'Approve' : 'Reject';
  const runId = await pickRunAmong(arg, s.store.runsWithProposed(), `${verb} every proposed change of which run?`, NOTHING_PROPOSED);
  if (runId === undefined) return undefined;
  const proposed = s.store.proposedOf(runId).length;
  if (proposed === 0) {
    void showInformationMessage(nothingProposedOf(runId));
    return undefined;
  }
  if (method === Requests.CHANGES_REJECT) {
    const question = rejectAllQuestion(runId, s.store.run(runId)?.title, proposed);
    const confirm = await showWarningMessage(question.message, { modal: true, detail: question.detail }, question.action);
    if (confirm !== question.action) return undefined;
  }
  return decide(s, method, { runId });
}

async function decide(
  s: Services,
  method: typeof Requests.CHANGES_APPROVE | typeof Requests.CHANGES_REJECT,
  params: ChangeDecisionParams,
): Promise<ChangeDecisionResult> {
  const result = await s.client.request(method, params);
  s.store.applyChanges(result.changes);
  warnConflicts(s, result.conflicts);
  return result;
}

/** Name the changes that were not written (their files moved on) and offer the merge editor. */
export function warnConflicts(s: Services, conflicts: readonly number[]): void {
  if (conflicts.length === 0) return;
  const paths = conflicts.map((id) => s.store.change(id)?.path ?? `change ${id}`);
  void showWarningMessage(conflictText(paths), 'Resolve').then((choice) => {
    if (choice === 'Resolve') void vscode.commands.executeCommand('devfactory.resolveConflict', conflicts[0]);
  });
}

async function requestChanges(s: Services, arg: RunArg, given?: string): Promise<number | undefined> {
  const runId = await pickRun(s, arg, undefined, 'Request changes of which run?');
  if (runId === undefined) return undefined;
  const { comments } = await s.client.request(Requests.CHANGES_COMMENTS, { runId });
  const count = plural(comments.length, 'open comment');
  const note =
    given ??
    (await showInputBox({
      title: `Request changes of run #${runId} (${count})`,
      prompt: comments.length ? 'A note for the run besides the comments (optional)' : 'What should the run change? (no comments yet)',
      ignoreFocusOut: true,
    }));
  if (note === undefined) return undefined;
  const run = await s.client.request(Requests.CHANGES_REQUEST_CHANGES, { runId, note: note.trim() || null });
  s.store.applyRun(run);
  s.comments.markResolved(comments.map((c) => c.id));
  void showInformationMessage(`DevFactory: run #${runId} got ${count}${note.trim() ? ' and your note' : ''}; it works on them now.`);
  await s.consoles.open(runId);
  return runId;
}

const DECISIONS: { decision: ReviewDecision; label: string; detail: string }[] = [
  { decision: ReviewDecision.APPROVED, label: '$(check) Approve', detail: 'The run is good: its branch may be pushed.' },
  { decision: ReviewDecision.REJECTED, label: '$(close) Reject', detail: 'The run should not be published.' },
  { decision: ReviewDecision.COMMENTED, label: '$(comment) Comment', detail: 'Notes only, no verdict.' },
];

async function submitReview(s: Services, arg: RunArg, given?: ReviewDecision, givenNotes?: string): Promise<RunReview | undefined> {
  const runId = await pickRun(s, arg, undefined, 'Review which run?');
  if (runId === undefined) return undefined;
  const decision = given ?? (await vscode.window.showQuickPick(DECISIONS, { title: `Review run #${runId}`, ignoreFocusOut: true }))?.decision;
  if (!decision) return undefined;
  const notes = givenNotes ?? (await showInputBox({ title: `Review run #${runId}: ${decision}`, prompt: 'Notes (optional)', ignoreFocusOut: true }));
  if (notes === undefined) return undefined;
  const review = await s.client.request(Requests.REVIEWS_SUBMIT, { runId, decision, notes });
  const next = decision === ReviewDecision.APPROVED ? ' Push publishes its branch.' : '';
  void showInformationMessage(`DevFactory: run #${runId} reviewed: ${decision}.${next}`);
  return review;
}

async function pushRun(s: Services, arg: RunArg, remote?: string): Promise<GitPushResult | undefined> {
  const runId = await pickRun(s, arg, undefined, "Push which run's branch?");
  if (runId === undefined) return undefined;
  try {
    const result = await s.client.request(Requests.GIT_PUSH, { runId, remote: remote ?? 'origin' });
    void showInformationMessage(`DevFactory: pushed ${result.branch} to ${result.remote}.`);
    return result;
  } catch (error) {
    if ((error as { code?: number }).code !== ErrorCodes.REFUSED) throw error;
    void showWarningMessage(`DevFactory: ${(error as Error).message}`, 'Submit Review').then((choice) => {
      if (choice === 'Submit Review') void vscode.commands.executeCommand('devfactory.submitReview', runId);
    });
    return undefined;
  }
}
