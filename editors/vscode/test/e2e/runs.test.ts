/**
 * Layer 2: the run controls from the command palette / Runs view, in the real extension host:
 * pause, resume, send a directive, cancel and retry a slow scripted run.
 * Needs the daemon's runs feature (devfactory/runs/*).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { type Run, RunStatus } from '../../src/generated/protocol';
import { waitFor } from './wait';

suite('DevFactory run controls', () => {
  let api: DevFactoryApi;
  let run: Run;
  const status = () => api.store.run(run.id)?.status;

  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<DevFactoryApi>('devfactory.devfactory')!.activate())!;
    await waitFor('the daemon', () => api.client.state === 'running');
  });

  test('Pause and Resume a running run', async () => {
    run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Look around', provider: 'scripted', model: 'slow.json' }))!;
    await waitFor('running', () => status() === RunStatus.RUNNING);
    await vscode.commands.executeCommand('devfactory.pauseRun', run.id);
    await waitFor('paused', () => status() === RunStatus.PAUSED, 20_000);
    const item = api.tree.getTreeItem({ kind: 'run', runId: run.id });
    assert.equal(item.contextValue, 'run.paused');
    await vscode.commands.executeCommand('devfactory.resumeRun', { kind: 'run', runId: run.id });
    await waitFor('running again', () => status() === RunStatus.RUNNING);
  });

  test('Send Directive reaches the run', async () => {
    await vscode.commands.executeCommand('devfactory.sendDirective', run.id, 'Mention the README too.');
    await waitFor('the directive in the console', () => /Mention the README too\./.test(api.consoles.text(run.id)));
  });

  test('Cancel stops it and Retry starts a new run from it', async () => {
    await vscode.commands.executeCommand('devfactory.cancelRun', run.id);
    await waitFor('cancelled', () => status() === RunStatus.CANCELLED);
    const retried = await vscode.commands.executeCommand<Run>('devfactory.retryRun', run.id);
    assert.ok(retried && retried.id !== run.id);
    assert.equal(retried.retryOf, run.id);
    await waitFor('the retry to run', () => api.store.run(retried.id)?.status === RunStatus.RUNNING);
    await vscode.commands.executeCommand('devfactory.cancelRun', retried.id);
    await waitFor('the retry cancelled', () => api.store.run(retried.id)?.status === RunStatus.CANCELLED);
    assert.deepEqual(
      api.tree.getChildren({ kind: 'group', status: RunStatus.CANCELLED }),
      [{ kind: 'run', runId: retried.id }, { kind: 'run', runId: run.id }],
    );
  });
});
