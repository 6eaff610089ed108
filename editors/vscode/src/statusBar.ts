/**
 * The DevFactory status bar item: daemon state, a warning when the default provider cannot run
 * (health), active runs, questions waiting for the user and indexing progress. Clicking it
 * opens the Runs view (or the log when the daemon failed).
 */
import * as vscode from 'vscode';
import type { DaemonClient, DaemonState } from './client';
import { plural } from './model/plural';
import type { RunStore } from './model/runStore';

const STATE_TEXT: Record<DaemonState, string> = {
  stopped: '$(circle-slash) DevFactory',
  starting: '$(loading~spin) DevFactory',
  running: '$(rocket) DevFactory',
  restarting: '$(debug-restart) DevFactory: restarting',
  failed: '$(error) DevFactory',
};

export class DaemonStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('devfactory.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly client: DaemonClient,
    private readonly store: RunStore,
  ) {
    this.item.name = 'DevFactory';
    this.subscriptions = [
      client.onDidChangeState(() => this.update()),
      client.progress.onDidChange(() => this.update()),
      store.onDidChange(() => this.update()),
    ];
    this.update();
    this.item.show();
  }

  /** The text shown right now (tests read it). */
  get text(): string {
    return this.item.text;
  }

  private update(): void {
    const state = this.client.state;
    const parts = [STATE_TEXT[state]];
    const active = this.store.activeRuns().length;
    const questions = this.store.pendingQuestions().length;
    const progress = this.client.progress.current;
    const provider = this.client.health?.provider;
    if (state === 'running') {
      if (provider && !provider.ready) parts.push(`$(warning) ${provider.name}`);
      if (active) parts.push(`$(play) ${plural(active, 'run')}`);
      if (questions) parts.push(`$(question) ${questions}`);
      if (progress) parts.push(`$(sync~spin) ${progress.title}${progress.percentage === undefined ? '' : ` ${Math.round(progress.percentage)}%`}`);
    }
    this.item.text = parts.join('  ');
    this.item.tooltip = this.tooltip(state, active, questions);
    this.item.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command = state === 'failed' ? 'devfactory.showLog' : 'workbench.view.extension.devfactory';
  }

  private tooltip(state: DaemonState, active: number, questions: number): string {
    if (state === 'failed') return this.client.problem?.userMessage ?? 'The DevFactory daemon is not running.';
    const health = this.client.health;
    const daemon = health ? `daemon ${health.version} (protocol ${health.protocolVersion})` : 'daemon';
    const provider = health?.provider;
    const ready = !provider ? '' : provider.ready ? `\nprovider ${provider.name}: ready` : `\nprovider ${provider.name} cannot run: ${provider.problem}`;
    return `DevFactory ${daemon}: ${state}\n${plural(active, 'active run')}, ${plural(questions, 'question')} waiting${ready}`;
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.item.dispose();
  }
}
