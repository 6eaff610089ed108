/**
 * Questions a run asks (devfactory/question): a quick pick of its choices, or an input box, whose
 * answer goes to devfactory/hitl/respond. A dismissed question stays pending in the Runs view,
 * where clicking it asks again.
 */
import * as vscode from 'vscode';
import { HitlAction, type HitlRequest, Requests } from '../generated/protocol';
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

  /** Ask the user; returns the answered request, or undefined when dismissed. */
  async ask(requestId: number): Promise<HitlRequest | undefined> {
    const request = this.store.question(requestId);
    if (!request || this.asking.has(requestId)) return undefined;
    this.asking.add(requestId);
    try {
      const answer = await promptFor(request, this.store.run(request.runId)?.title);
      if (answer === undefined) return undefined;
      const answered = await this.api.request(Requests.HITL_RESPOND, { requestId, action: HitlAction.ANSWER, text: answer });
      this.store.applyQuestion(answered);
      return answered;
    } catch (error) {
      void vscode.window.showErrorMessage(`DevFactory: could not send the answer: ${(error as Error).message}`);
      return undefined;
    } finally {
      this.asking.delete(requestId);
    }
  }
}

async function promptFor(request: HitlRequest, runTitle: string | undefined): Promise<string | undefined> {
  const title = `DevFactory run #${request.runId}${runTitle ? ` (${runTitle})` : ''} asks: ${request.question}`;
  if (request.choices.length === 0) {
    return vscode.window.showInputBox({ title, prompt: request.question, ignoreFocusOut: true });
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
    pick.onDidHide(() => {
      pick.dispose();
      resolve(answer);
    });
    pick.show();
  });
}
