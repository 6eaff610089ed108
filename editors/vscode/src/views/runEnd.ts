/**
 * Says when a run ends, so nobody has to watch its console: "Run 3 completed: review 2
 * changes" with a button that opens them (the Runs view lists them, the first one's diff
 * opens), or "Run 3 failed: <reason>" with a button to its console. A cancelled run was
 * cancelled by the user, who needs no toast for it.
 */
import * as vscode from 'vscode';
import { ChangeStatus, type Run, RunStatus } from '../generated/protocol';
import { showErrorMessage, showInformationMessage } from '../messages';
import { plural } from '../model/plural';
import type { RunStore } from '../model/runStore';

export interface RunEndActions {
  openConsole(runId: number): Promise<unknown>;
  openDiff(changeId: number): Promise<unknown>;
}

export class RunEndNotifier implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly store: RunStore,
    private readonly actions: RunEndActions,
  ) {
    this.subscription = store.onDidEndRun((run) => void this.announce(run));
  }

  private async announce(run: Run): Promise<void> {
    if (run.status === RunStatus.FAILED) {
      const reason = run.failedReason ? `: ${run.failedReason}` : '';
      if ((await showErrorMessage(`Run ${run.id} failed${reason}`, 'Open Console')) === 'Open Console') {
        await this.actions.openConsole(run.id);
      }
      return;
    }
    if (run.status !== RunStatus.COMPLETED) return;
    await this.store.reloadChanges(run.id);
    const proposed = this.store.changesOf(run.id).filter((c) => c.status === ChangeStatus.PROPOSED);
    if (proposed.length === 0) {
      const choice = await showInformationMessage(`Run ${run.id} completed`, 'Open Console');
      if (choice) await this.actions.openConsole(run.id);
      return;
    }
    const choice = await showInformationMessage(`Run ${run.id} completed: review ${plural(proposed.length, 'change')}`, 'Review Changes');
    if (choice !== 'Review Changes') return;
    await vscode.commands.executeCommand('devfactory.runs.focus');
    await this.actions.openDiff(proposed[0].id);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
