/**
 * The Initiatives view: initiative -> phases -> tasks (status icons, the runs behind each task)
 * and the proposals waiting for the user. Items say what they allow in their contextValue
 * (`phase.pending_review`, `task.blocked.checkpoint`, `proposal`, `initiative.pending_review`)
 * so package.json's menus offer accept / dismiss, approve / request changes, answer and apply.
 */
import * as vscode from 'vscode';
import {
  type Initiative,
  InitiativeStatus,
  type Phase,
  PhaseStatus,
  type Proposal,
  type Task,
  TaskStatus,
  TaskType,
} from '../generated/protocol';
import { InitiativeStore } from '../model/initiativeStore';
import { initiativeTooltip, proposalTooltip, taskTooltip } from '../model/tooltips';

export type InitiativesNode =
  | { kind: 'initiative'; initiativeId: number }
  | { kind: 'proposals'; initiativeId: number }
  | { kind: 'proposal'; proposalId: number }
  | { kind: 'phase'; phaseId: number }
  | { kind: 'task'; taskId: number }
  | { kind: 'run'; runId: number; taskId: number };

const icon = (id: string, color?: string) => new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);

const INITIATIVE_ICONS: Record<InitiativeStatus, vscode.ThemeIcon> = {
  active: icon('rocket', 'charts.blue'),
  pending_review: icon('eye', 'charts.yellow'),
  completed: icon('pass', 'charts.green'),
  archived: icon('archive'),
};

const PHASE_ICONS: Record<PhaseStatus, vscode.ThemeIcon> = {
  pending: icon('circle-outline'),
  approved: icon('check'),
  in_progress: icon('sync~spin', 'charts.blue'),
  pending_review: icon('eye', 'charts.yellow'),
  completed: icon('pass', 'charts.green'),
  blocked: icon('debug-pause', 'charts.orange'),
};

const TASK_ICONS: Record<TaskStatus, vscode.ThemeIcon> = {
  pending: icon('circle-outline'),
  in_progress: icon('sync~spin', 'charts.blue'),
  completed: icon('pass', 'charts.green'),
  blocked: icon('question', 'charts.yellow'),
  failed: icon('error', 'charts.red'),
};

const words = (status: string) => status.replace(/_/g, ' ');

export class InitiativesTreeProvider implements vscode.TreeDataProvider<InitiativesNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<InitiativesNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: InitiativeStore) {
    this.subscription = store.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: InitiativesNode): InitiativesNode[] {
    if (!node) return this.store.initiatives().map((i) => ({ kind: 'initiative', initiativeId: i.id }));
    switch (node.kind) {
      case 'initiative': {
        const tree = this.store.tree(node.initiativeId);
        if (!tree) return [];
        const phases = tree.phases.map((p): InitiativesNode => ({ kind: 'phase', phaseId: p.id }));
        return tree.proposals.length ? [{ kind: 'proposals', initiativeId: node.initiativeId }, ...phases] : phases;
      }
      case 'proposals':
        return (this.store.tree(node.initiativeId)?.proposals ?? []).map((p) => ({ kind: 'proposal', proposalId: p.id }));
      case 'phase':
        return this.store.tasksOf(node.phaseId).map((t) => ({ kind: 'task', taskId: t.id }));
      case 'task':
        return (this.store.task(node.taskId)?.runIds ?? []).map((runId) => ({ kind: 'run', runId, taskId: node.taskId }));
      default:
        return [];
    }
  }

  getTreeItem(node: InitiativesNode): vscode.TreeItem {
    switch (node.kind) {
      case 'initiative':
        return initiativeItem(this.store.tree(node.initiativeId)?.initiative, node.initiativeId);
      case 'proposals': {
        const count = this.store.tree(node.initiativeId)?.proposals.length ?? 0;
        const item = new vscode.TreeItem(`Proposals (${count})`, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `proposals:${node.initiativeId}`;
        item.iconPath = icon('lightbulb', 'charts.yellow');
        item.contextValue = 'proposals';
        return item;
      }
      case 'proposal':
        return proposalItem(this.store.proposal(node.proposalId), node.proposalId);
      case 'phase':
        return phaseItem(this.store.phase(node.phaseId), node.phaseId, this.store.tasksOf(node.phaseId).length > 0);
      case 'task':
        return taskItem(this.store.task(node.taskId), node.taskId);
      case 'run': {
        const item = new vscode.TreeItem(`Run #${node.runId}`, vscode.TreeItemCollapsibleState.None);
        item.id = `task-run:${node.taskId}:${node.runId}`;
        item.iconPath = icon('output');
        item.contextValue = 'taskRun';
        item.command = { command: 'devfactory.openConsole', title: 'Open Console', arguments: [node.runId] };
        return item;
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function initiativeItem(initiative: Initiative | undefined, id: number): vscode.TreeItem {
  const item = new vscode.TreeItem(initiative?.name ?? `initiative ${id}`, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `initiative:${id}`;
  if (!initiative) return item;
  item.description = `${words(initiative.status)} · ${initiative.mode === 'yolo' ? 'yolo' : 'review per phase'} · ${initiative.branch}`;
  item.tooltip = new vscode.MarkdownString(initiativeTooltip(initiative));
  item.iconPath = INITIATIVE_ICONS[initiative.status];
  item.contextValue = `initiative.${initiative.status}`;
  if (initiative.status === InitiativeStatus.COMPLETED || initiative.status === InitiativeStatus.ARCHIVED) {
    item.collapsibleState = vscode.TreeItemCollapsibleState.Collapsed;
  }
  return item;
}

function phaseItem(phase: Phase | undefined, id: number, hasTasks: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(phase?.name ?? `phase ${id}`, hasTasks ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `phase:${id}`;
  if (!phase) return item;
  item.description = words(phase.status) + (phase.revision ? ` · revision ${phase.revision}` : '');
  item.tooltip = phase.description || phase.name;
  item.iconPath = PHASE_ICONS[phase.status];
  item.contextValue = `phase.${phase.status}`;
  if (phase.status === PhaseStatus.PENDING_REVIEW) {
    item.command = { command: 'devfactory.showPhaseDiff', title: 'Show Phase Diff', arguments: [{ kind: 'phase', phaseId: id }] };
  }
  return item;
}

function taskItem(task: Task | undefined, id: number): vscode.TreeItem {
  const item = new vscode.TreeItem(task ? `${task.id}. ${task.title}` : `task ${id}`, vscode.TreeItemCollapsibleState.None);
  item.id = `task:${id}`;
  if (!task) return item;
  if (task.runIds.length) item.collapsibleState = vscode.TreeItemCollapsibleState.Collapsed;
  const kind = task.type === TaskType.AUTO ? task.agent : task.type.replace('checkpoint:', '');
  item.description = `${words(task.status)} · ${kind}${task.runIds.length ? ` · run #${task.runIds[task.runIds.length - 1]}` : ''}`;
  item.tooltip = new vscode.MarkdownString(taskTooltip(task));
  item.iconPath = TASK_ICONS[task.status];
  const waits = InitiativeStore.waitsForUser(task);
  item.contextValue = `task.${task.status}${waits ? '.checkpoint' : ''}`;
  if (waits) item.command = { command: 'devfactory.answerCheckpoint', title: 'Answer', arguments: [{ kind: 'task', taskId: id }] };
  return item;
}

function proposalItem(proposal: Proposal | undefined, id: number): vscode.TreeItem {
  const item = new vscode.TreeItem(proposal?.title ?? `proposal ${id}`, vscode.TreeItemCollapsibleState.None);
  item.id = `proposal:${id}`;
  if (!proposal) return item;
  item.description = `${proposal.action} ${proposal.target}${proposal.summary ? ` · ${proposal.summary}` : ''}`;
  item.tooltip = new vscode.MarkdownString(proposalTooltip(proposal));
  item.iconPath = icon('lightbulb');
  item.contextValue = 'proposal';
  item.command = { command: 'devfactory.showProposal', title: 'Show Proposal', arguments: [{ kind: 'proposal', proposalId: id }] };
  return item;
}
