/**
 * The Runs view: runs grouped by status (what needs the user first), each expanding to its
 * pending questions, its changes (inline approve / reject / diff) and its console.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type Change, ChangeStatus, type HitlRequest, type Run, RUN_CONTROLS, RunStatus } from '../generated/protocol';
import { plural } from '../model/plural';
import type { RunStore } from '../model/runStore';
import { runTooltip } from '../model/tooltips';

/**
 * `run.<status>.can-<control>...[.proposed]`: the menus offer a run control where the item says
 * `can-<control>` (package.json's when-clauses), so the Runs view offers what RUN_CONTROLS allows.
 */
export function runContextValue(status: RunStatus, hasProposed: boolean): string {
  const controls = RUN_CONTROLS[status].map((control) => `.can-${control}`).join('');
  return `run.${status}${controls}${hasProposed ? '.proposed' : ''}`;
}

export type RunsNode =
  | { kind: 'group'; status: RunStatus }
  | { kind: 'run'; runId: number }
  | { kind: 'question'; requestId: number; runId: number }
  | { kind: 'change'; changeId: number; runId: number }
  | { kind: 'console'; runId: number };

const GROUP_LABELS: Record<RunStatus, string> = {
  waiting_for_user: 'Waiting for you',
  running: 'Running',
  paused: 'Paused',
  queued: 'Queued',
  draft: 'Drafts',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const STATUS_ICONS: Record<RunStatus, vscode.ThemeIcon> = {
  waiting_for_user: new vscode.ThemeIcon('question', new vscode.ThemeColor('charts.yellow')),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  paused: new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.orange')),
  queued: new vscode.ThemeIcon('clock'),
  draft: new vscode.ThemeIcon('edit'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('charts.red')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
};

const CHANGE_ICONS: Record<ChangeStatus, vscode.ThemeIcon> = {
  proposed: new vscode.ThemeIcon('git-pull-request-draft', new vscode.ThemeColor('charts.yellow')),
  approved: new vscode.ThemeIcon('check'),
  applied: new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('charts.green')),
  rejected: new vscode.ThemeIcon('close', new vscode.ThemeColor('charts.red')),
  conflict: new vscode.ThemeIcon('warning', new vscode.ThemeColor('charts.red')),
  stale: new vscode.ThemeIcon('history'),
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: RunStore,
    private readonly root: vscode.Uri,
  ) {
    this.subscription = store.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) return this.store.groups().map((g) => ({ kind: 'group', status: g.status }));
    switch (node.kind) {
      case 'group':
        return (this.store.groups().find((g) => g.status === node.status)?.runs ?? []).map((r) => ({ kind: 'run', runId: r.id }));
      case 'run':
        return [
          ...this.store.questionsOf(node.runId).map((q): RunsNode => ({ kind: 'question', requestId: q.id, runId: node.runId })),
          ...this.store.changesOf(node.runId).map((c): RunsNode => ({ kind: 'change', changeId: c.id, runId: node.runId })),
          { kind: 'console', runId: node.runId },
        ];
      default:
        return [];
    }
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const count = this.store.groups().find((g) => g.status === node.status)?.runs.length ?? 0;
        const item = new vscode.TreeItem(`${GROUP_LABELS[node.status]} (${count})`, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.status}`;
        item.contextValue = 'group';
        return item;
      }
      case 'run':
        return this.runItem(this.store.run(node.runId), node.runId);
      case 'question':
        return questionItem(this.store.question(node.requestId), node.requestId);
      case 'change':
        return this.changeItem(this.store.change(node.changeId), node.changeId);
      case 'console': {
        const item = new vscode.TreeItem('Console', vscode.TreeItemCollapsibleState.None);
        item.id = `console:${node.runId}`;
        item.iconPath = new vscode.ThemeIcon('output');
        item.contextValue = 'console';
        item.command = { command: 'devfactory.openConsole', title: 'Open Console', arguments: [node.runId] };
        return item;
      }
    }
  }

  private runItem(run: Run | undefined, runId: number): vscode.TreeItem {
    const item = new vscode.TreeItem(`#${runId} ${run?.title ?? ''}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${runId}`;
    if (!run) return item;
    const step = run.currentStep ? ` · step ${run.currentStep}` : '';
    item.description = `${run.agent} · ${run.provider}${step}`;
    item.tooltip = new vscode.MarkdownString(runTooltip(run));
    item.iconPath = STATUS_ICONS[run.status];
    item.contextValue = runContextValue(run.status, this.store.hasProposed(run.id));
    if (run.status === RunStatus.WAITING_FOR_USER || this.store.hasProposed(run.id)) {
      item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
    }
    return item;
  }

  private changeItem(change: Change | undefined, changeId: number): vscode.TreeItem {
    const item = new vscode.TreeItem(change ? path.basename(change.path) : `change ${changeId}`);
    item.id = `change:${changeId}`;
    if (!change) return item;
    const dir = path.dirname(change.path);
    const pending = change.hunks.filter((h) => h.status === ChangeStatus.PROPOSED).length;
    item.description = `${dir === '.' ? '' : `${dir} · `}${change.action} · ${change.status}${pending ? ` · ${plural(pending, 'hunk')}` : ''}`;
    item.tooltip = `${change.path}: ${change.action}, ${change.status}${change.reason ? ` (${change.reason})` : ''}`;
    item.resourceUri = vscode.Uri.joinPath(this.root, change.path);
    item.iconPath = CHANGE_ICONS[change.status];
    item.contextValue = `change.${change.status}`;
    item.command = { command: 'devfactory.openDiff', title: 'Show Diff', arguments: [changeId] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function questionItem(request: HitlRequest | undefined, requestId: number): vscode.TreeItem {
  const item = new vscode.TreeItem(request ? request.question : `question ${requestId}`);
  item.id = `question:${requestId}`;
  item.description = request?.choices.length ? request.choices.join(' / ') : 'answer…';
  item.iconPath = new vscode.ThemeIcon('comment-unresolved', new vscode.ThemeColor('charts.yellow'));
  item.contextValue = 'question';
  item.command = { command: 'devfactory.answerQuestion', title: 'Answer', arguments: [requestId] };
  return item;
}
