/**
 * Factory commands, from the palette or the Initiatives view: New Initiative, Accept / Dismiss
 * Proposal, Show Proposal, Show Phase Diff (and Comment on a line of it), Approve Phase, Request
 * Changes on a phase, Answer a checkpoint, Apply an initiative's result, Refresh. Each takes a view node or a plain id (the
 * integration tests pass ids and answers, so nothing waits on a prompt they cannot see).
 */
import * as vscode from 'vscode';
import {
  HitlAction,
  type Initiative,
  InitiativeMode,
  Requests,
  type Task,
  type TaskRespondParams,
  TaskType,
} from '../generated/protocol';
import { showInformationMessage, showInputBox } from '../messages';
import { initiativeAppliedText } from '../model/applyText';
import { type PhaseDiffText, phaseDiffText } from '../model/phaseDiff';
import { warnConflicts } from './review';
import { registerCommand, type Services } from './services';

type Target = number | { phaseId?: number; proposalId?: number; taskId?: number; initiativeId?: number } | undefined;
type IdField = 'phaseId' | 'proposalId' | 'taskId' | 'initiativeId';

function idOf(target: Target, field: IdField): number {
  const id = typeof target === 'number' ? target : target?.[field];
  if (id === undefined) throw new Error(`pick a ${field.replace('Id', '')} in the Initiatives view`);
  return id;
}

export interface NewInitiative {
  goal?: string;
  mode?: InitiativeMode;
  provider?: string;
  model?: string;
}

export function registerFactoryCommands(s: Services): vscode.Disposable[] {
  const reload = (initiativeId: number) => s.initiatives.reload(initiativeId);
  /** The phase diffs shown, by document: what a comment on one of their lines names. */
  const phaseDiffs = new Map<string, { phaseId: number; places: PhaseDiffText['places'] }>();
  return [
    registerCommand('newInitiative', (given?: NewInitiative) => newInitiative(s, given ?? {})),
    registerCommand('refreshInitiatives', () => s.initiatives.refresh()),
    registerCommand('acceptProposal', async (target: Target) => {
      const proposal = await s.client.request(Requests.PROPOSALS_ACCEPT, { proposalId: idOf(target, 'proposalId') });
      await reload(proposal.initiativeId);
      return proposal;
    }),
    registerCommand('dismissProposal', async (target: Target) => {
      const proposal = await s.client.request(Requests.PROPOSALS_DISMISS, { proposalId: idOf(target, 'proposalId') });
      await reload(proposal.initiativeId);
      return proposal;
    }),
    registerCommand('showProposal', async (target: Target) => {
      const proposal = s.initiatives.proposal(idOf(target, 'proposalId'));
      if (!proposal) throw new Error('that proposal is no longer pending');
      const text = `# ${proposal.title}\n\n${proposal.summary}\n\n${proposal.content}`;
      return vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: text }), { preview: true });
    }),
    registerCommand('showPhaseDiff', async (target: Target) => {
      const phaseId = idOf(target, 'phaseId');
      const diff = phaseDiffText((await s.client.request(Requests.PHASES_DIFF, { phaseId })).files);
      const document = await vscode.workspace.openTextDocument({ language: 'diff', content: diff.text });
      phaseDiffs.set(document.uri.toString(), { phaseId, places: diff.places });
      return vscode.window.showTextDocument(document, { preview: true });
    }),
    registerCommand('commentPhaseLine', async (given?: string) => {
      const editor = vscode.window.activeTextEditor;
      const shown = editor && phaseDiffs.get(editor.document.uri.toString());
      if (!editor || !shown) throw new Error('open a phase diff first (Show Phase Diff in the Initiatives view)');
      const place = shown.places.get(editor.selection.active.line);
      if (!place) throw new Error('put the cursor on a changed or context line of a file to comment on it');
      const body = given ?? (await showInputBox({ prompt: `Comment on ${place.path}:${place.line}`, ignoreFocusOut: true }));
      if (!body?.trim()) return undefined;
      const comment = await s.client.request(Requests.PHASES_COMMENT, { phaseId: shown.phaseId, ...place, body });
      void showInformationMessage(`DevFactory: comment on ${place.path}:${place.line} saved; Request Changes on the phase sends it to the agents.`);
      return comment;
    }),
    registerCommand('approvePhase', async (target: Target) => {
      const phase = await s.client.request(Requests.PHASES_APPROVE, { phaseId: idOf(target, 'phaseId') });
      await reload(phase.initiativeId);
      return phase;
    }),
    registerCommand('requestPhaseChanges', async (target: Target, given?: string) => {
      const note = given ?? (await showInputBox({ prompt: 'What should change? (it becomes a revision task)', ignoreFocusOut: true }));
      if (note === undefined) return undefined;
      const phaseId = idOf(target, 'phaseId');
      const revision = await s.client.request(Requests.PHASES_REQUEST_CHANGES, { phaseId, note });
      await reload(revision.tasks[0]?.initiativeId ?? s.initiatives.phase(phaseId)?.initiativeId ?? 0);
      return revision;
    }),
    registerCommand('answerCheckpoint', async (target: Target, given?: TaskRespondParams) => {
      const task = s.initiatives.task(idOf(target, 'taskId'));
      if (!task) throw new Error('that task is not loaded: refresh the Initiatives view');
      const params = given ?? (await askCheckpoint(task));
      if (!params) return undefined;
      const answered = await s.client.request(Requests.TASKS_RESPOND, { ...params, taskId: task.id });
      await reload(answered.initiativeId);
      return answered;
    }),
    registerCommand('applyInitiative', async (target: Target) => {
      const applied = await s.client.request(Requests.INITIATIVES_APPLY, { initiativeId: idOf(target, 'initiativeId') });
      // The result run's changes: the Runs view shows the conflicts to resolve.
      await Promise.all([reload(applied.initiative.id), s.store.reloadChanges(applied.runId)]);
      void showInformationMessage(initiativeAppliedText(applied));
      warnConflicts(s, applied.conflicts);
      return applied;
    }),
  ];
}

async function newInitiative(s: Services, given: NewInitiative): Promise<Initiative | undefined> {
  const goal = given.goal ?? (await showInputBox({ prompt: 'The goal: what should the initiative achieve?', ignoreFocusOut: true }));
  if (!goal?.trim()) return undefined;
  const mode =
    given.mode ??
    (
      await vscode.window.showQuickPick(
        [
          { label: 'Review each phase', detail: 'Accept the plan, then review every phase before the next starts', mode: InitiativeMode.REVIEW_PER_PHASE },
          { label: 'Yolo', detail: 'Accept the plan as it comes; phases complete on their own', mode: InitiativeMode.YOLO },
        ],
        { placeHolder: 'How much should the factory wait for you?' },
      )
    )?.mode;
  if (!mode) return undefined;
  const initiative = await s.client.request(Requests.INITIATIVES_CREATE, { goal, mode, provider: given.provider, model: given.model });
  await s.initiatives.reload(initiative.id);
  void showInformationMessage(`DevFactory: initiative "${initiative.name}" started on ${initiative.branch}; its plan arrives as proposals.`);
  return initiative;
}

/** The user's answer to a checkpoint task, asked the way its type needs. */
async function askCheckpoint(task: Task): Promise<Omit<TaskRespondParams, 'taskId'> | undefined> {
  const question = task.checkpoint?.question ?? task.title;
  if (task.type === TaskType.CHECKPOINT_DECISION) {
    const choice = await vscode.window.showQuickPick(task.checkpoint?.choices ?? [], { placeHolder: question });
    return choice === undefined ? undefined : { action: HitlAction.ANSWER, text: choice };
  }
  if (task.type === TaskType.CHECKPOINT_HUMAN_ACTION) {
    const done = await showInformationMessage(question, 'Done');
    return done ? { action: HitlAction.APPROVE } : undefined;
  }
  const verdict = await vscode.window.showQuickPick(['Approve', 'Reject'], { placeHolder: question });
  if (verdict !== 'Reject') return verdict ? { action: HitlAction.APPROVE } : undefined;
  const reason = await showInputBox({ prompt: 'Why? (the agents get it)', ignoreFocusOut: true });
  return reason === undefined ? undefined : { action: HitlAction.REJECT, text: reason };
}
