/**
 * Questions a run asks (devfactory/question): a quick pick of its choices, or an input box, whose
 * answer goes to devfactory/hitl/respond. A plan to approve (kind `plan`) opens in a Markdown
 * editor beside, where the user may edit it, with Approve (the plan as it stands there: edited
 * means amended) or Reject (with feedback to revise it, or none to stop the run). A dismissed
 * question stays pending in the Runs view, where clicking it asks again; one answered elsewhere
 * or cancelled with its run closes its prompt.
 */
import * as vscode from 'vscode';
import { HitlAction, type HitlRequest, Requests } from '../generated/protocol';
import { showErrorMessage, showInputBox } from '../messages';
import type { DaemonApi } from '../model/daemonApi';
import type { RunStore } from '../model/runStore';

export class QuestionPrompter {
  /** Requests with a prompt on screen, so a repeated notification does not stack prompts. */
  private readonly asking = new Set<number>();
  /** Questions that arrive by themselves are asked one after another, never over each other. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: DaemonApi,
    private readonly store: RunStore,
  ) {}

  /** devfactory/question handler. */
  onQuestion(request: HitlRequest): void {
    this.store.applyQuestion(request);
    this.enqueue(request.id);
  }

  /** Ask when the prompts before it are done (a click in the Runs view calls ask() at once). */
  enqueue(requestId: number): void {
    this.queue = this.queue.then(() => this.ask(requestId));
  }

  /** Requests whose prompt is on screen (tests read it). */
  get onScreen(): number[] {
    return [...this.asking];
  }

  /** Ask the user; returns the answered request, or undefined when dismissed. */
  async ask(requestId: number): Promise<HitlRequest | undefined> {
    const request = this.store.question(requestId);
    if (!request || this.asking.has(requestId)) return undefined;
    this.asking.add(requestId);
    // Answered elsewhere (another editor) or cancelled with its run: its prompt goes, and the
    // questions queued behind it come up.
    const gone = new vscode.CancellationTokenSource();
    const watch = this.store.onDidChange(() => this.store.question(requestId) || gone.cancel());
    try {
      const title = this.store.run(request.runId)?.title;
      const answer = request.kind === 'plan' ? await planDecision(request, title, gone.token) : await promptFor(request, title, gone.token);
      if (answer === undefined || gone.token.isCancellationRequested) return undefined;
      const { action, text } = typeof answer === 'string' ? { action: HitlAction.ANSWER, text: answer } : answer;
      const answered = await this.api.request(Requests.HITL_RESPOND, { requestId, action, text });
      this.store.applyQuestion(answered);
      return answered;
    } catch (error) {
      void showErrorMessage(`DevFactory: could not send the answer: ${(error as Error).message}`);
      return undefined;
    } finally {
      watch.dispose();
      gone.dispose();
      this.asking.delete(requestId);
    }
  }
}

async function promptFor(request: HitlRequest, runTitle: string | undefined, gone: vscode.CancellationToken): Promise<string | undefined> {
  const title = `DevFactory run #${request.runId}${runTitle ? ` (${runTitle})` : ''} asks: ${request.question}`;
  if (request.choices.length === 0) {
    return showInputBox({ title, prompt: request.question, ignoreFocusOut: true }, gone);
  }
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick();
    const choices = request.choices.map((label) => ({ label }));
    pick.title = title;
    pick.placeholder = 'Pick an answer or type your own';
    pick.items = choices;
    pick.ignoreFocusOut = true;
    let answer: string | undefined;
    pick.onDidChangeValue((value) => {
      const typed = value.trim();
      pick.items = typed && !request.choices.includes(typed) ? [...choices, { label: typed, description: 'your answer' }] : choices;
    });
    pick.onDidAccept(() => {
      answer = pick.selectedItems[0]?.label ?? (pick.value.trim() || undefined);
      pick.hide();
    });
    const hide = gone.onCancellationRequested(() => pick.hide());
    pick.onDidHide(() => {
      hide.dispose();
      pick.dispose();
      resolve(answer);
    });
    pick.show();
  });
}

/** The plan in an editor beside, then Approve (as edited there) or Reject with feedback. */
async function planDecision(
  request: HitlRequest,
  runTitle: string | undefined,
  gone: vscode.CancellationToken,
): Promise<{ action: HitlAction; text: string | null } | undefined> {
  const plan = await vscode.workspace.openTextDocument({ language: 'markdown', content: request.question });
  await vscode.window.showTextDocument(plan, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
  const approve = { label: '$(check) Approve', description: 'act on the plan as it stands in the editor (your edits included)' };
  const reject = { label: '$(close) Reject…', description: 'say what to change, or nothing to stop the run' };
  const options = {
    title: `DevFactory run #${request.runId}${runTitle ? ` (${runTitle})` : ''} proposes a plan`,
    placeHolder: 'Edit the plan in the editor beside if you like, then approve or reject it',
    ignoreFocusOut: true,
  };
  const picked = await vscode.window.showQuickPick([approve, reject], options, gone);
  if (picked === approve) {
    const edited = plan.getText().trim();
    return edited === request.question.trim() ? { action: HitlAction.APPROVE, text: null } : { action: HitlAction.AMEND, text: edited };
  }
  if (picked !== reject) return undefined;
  const feedback = await showInputBox({ title: 'Reject the plan', prompt: 'What should change? (empty: stop the run)', ignoreFocusOut: true }, gone);
  return feedback === undefined ? undefined : { action: HitlAction.REJECT, text: feedback.trim() || null };
}
