/**
 * Layer 2: the run controls from the command palette / Runs view, in the real extension host:
 * pause, resume, send a directive, cancel and retry a slow scripted run; the Runs view offers
 * a queued, running, paused or cancelled run exactly the controls the daemon accepts; a chatty
 * run's console shows each message once and follows the run to its summary.
 * Needs the daemon's runs feature (devfactory/runs/*).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DevFactoryApi } from '../../src/extension';
import { ErrorCodes, Requests, type Run, type RunControl, RUN_CONTROLS, RunStatus } from '../../src/generated/protocol';
import { CHATTY_PLAN } from '../support/workspace';
import { runningApi, waitFor } from './wait';

suite('DevFactory New Run prompt', () => {
  test('one prompt with the choices in its title, warning when the provider cannot run', async () => {
    const api = await runningApi();
    void vscode.commands.executeCommand('devfactory.newRun');
    const box = await waitFor('the prompt', () => api.runPrompt.active);
    assert.equal(box.title, 'DevFactory: New Run · backend · openai (default model) · review');
    assert.deepEqual(
      box.buttons.map((b) => b.tooltip),
      ['Agent: backend', 'Provider: openai', 'Model: default model', 'Mode: review', 'Plan first: off'],
    );
    const health = await api.client.request(Requests.HEALTH, {});
    assert.equal(health.provider?.name, 'openai');
    if (!process.env.OPENAI_API_KEY) {
      assert.equal(health.provider?.ready, false);
      const warning = await waitFor('the warning', () => box.validationMessage);
      assert.match(typeof warning === 'string' ? warning : warning.message, /openai: no API key: set OPENAI_API_KEY/);
      assert.match(api.statusBar.text, /\$\(warning\) openai/);
    }
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await waitFor('the prompt to close', () => api.runPrompt.active === undefined);
  });
});

suite('DevFactory run controls', () => {
  let api: DevFactoryApi;
  let run: Run;
  const status = () => api.store.run(run.id)?.status;

  suiteSetup(async () => {
    api = await runningApi();
  });

  test('Pause and Resume a running run', async () => {
    run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Look around', provider: 'scripted', model: 'slow.json' }))!;
    await waitFor('running', () => status() === RunStatus.RUNNING);
    await waitFor('the run as progress in the status bar', () => api.statusBar.text.includes(`$(sync~spin) DevFactory run #${run.id}`));
    await vscode.commands.executeCommand('devfactory.pauseRun', run.id);
    await waitFor('paused', () => status() === RunStatus.PAUSED, 20_000);
    const item = api.tree.getTreeItem({ kind: 'run', runId: run.id });
    assert.equal(item.contextValue, 'run.paused.can-cancel.can-directive.can-message.can-resume');
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

/** The commands the Runs view's context menu offers for a run, and the request each sends. */
const RUN_MENU_REQUESTS = {
  'devfactory.pauseRun': Requests.RUNS_PAUSE,
  'devfactory.resumeRun': Requests.RUNS_RESUME,
  'devfactory.cancelRun': Requests.RUNS_CANCEL,
  'devfactory.retryRun': Requests.RUNS_RETRY,
  'devfactory.sendDirective': Requests.RUNS_DIRECTIVE,
  'devfactory.messageRun': Requests.RUNS_MESSAGE,
  'devfactory.rewindRun': Requests.RUNS_REWIND,
} as const;
type RunMenuCommand = keyof typeof RUN_MENU_REQUESTS;

/** Whether a `view/item/context` when-clause (the subset the extension uses) holds for an item. */
function whenHolds(when: string, contextValue: string): boolean {
  return when.split('&&').every((term) => {
    const clause = term.trim();
    const regex = /^viewItem =~ \/(.*)\/$/.exec(clause);
    if (regex) return new RegExp(regex[1]).test(contextValue);
    const equals = /^(view|viewItem) == (\S+)$/.exec(clause);
    if (equals) return equals[1] === 'view' ? equals[2] === 'devfactory.runs' : equals[2] === contextValue;
    throw new Error(`unsupported when-clause term: ${clause}`);
  });
}

suite('DevFactory run controls follow the daemon', () => {
  let api: DevFactoryApi;

  suiteSetup(async () => {
    api = await runningApi();
  });

  /** The run controls the Runs view offers for a run right now. */
  const offered = (runId: number): RunMenuCommand[] => {
    const menus = vscode.extensions.getExtension('devfactory.devfactory')!.packageJSON.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const contextValue = api.tree.getTreeItem({ kind: 'run', runId }).contextValue ?? '';
    return menus.filter((m) => m.command in RUN_MENU_REQUESTS && whenHolds(m.when, contextValue)).map((m) => m.command as RunMenuCommand);
  };
  const send = (command: RunMenuCommand, runId: number) => {
    if (command === 'devfactory.sendDirective' || command === 'devfactory.messageRun') {
      return api.client.request(RUN_MENU_REQUESTS[command], { runId, text: 'Mention the README too.' });
    }
    if (command === 'devfactory.rewindRun') return api.client.request(Requests.RUNS_REWIND, { runId, step: 0 });
    return api.client.request(RUN_MENU_REQUESTS[command], { runId });
  };

  /** Every control the view does not offer is refused by the daemon; every one it offers is accepted. */
  async function checkMenu(runId: number, status: RunStatus, accept: RunMenuCommand[]): Promise<void> {
    await waitFor(`run ${runId} ${status}`, () => api.store.run(runId)?.status === status);
    const menu = offered(runId);
    assert.deepEqual([...menu].sort(), [...accept].sort(), `the menu of a ${status} run`);
    for (const command of Object.keys(RUN_MENU_REQUESTS) as RunMenuCommand[]) {
      if (menu.includes(command)) continue;
      const refusal = await send(command, runId).then(
        (result) => ({ accepted: result }),
        (error: { code?: number; message?: string }) => ({ code: error.code, message: error.message }),
      );
      assert.equal((refusal as { code?: number }).code, ErrorCodes.INVALID_STATE, `${command} on a ${status} run: ${JSON.stringify(refusal)}`);
    }
  }

  const MENU_OF: Record<RunControl, RunMenuCommand | undefined> = {
    start: undefined,
    pause: 'devfactory.pauseRun',
    resume: 'devfactory.resumeRun',
    cancel: 'devfactory.cancelRun',
    retry: 'devfactory.retryRun',
    directive: 'devfactory.sendDirective',
    message: 'devfactory.messageRun',
    rewind: 'devfactory.rewindRun',
  };

  test('queued, running and paused runs offer exactly what the daemon accepts', async () => {
    const create = () => vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Look around', provider: 'scripted', model: 'slow.json' });
    const [a, b, c] = [(await create())!, (await create())!, (await create())!];
    const allowed = (status: RunStatus) => RUN_CONTROLS[status].map((control) => MENU_OF[control]).filter((m): m is RunMenuCommand => !!m);
    try {
      await checkMenu(c.id, RunStatus.QUEUED, allowed(RunStatus.QUEUED));
      await checkMenu(a.id, RunStatus.RUNNING, allowed(RunStatus.RUNNING));
      await send('devfactory.sendDirective', a.id);
      await send('devfactory.pauseRun', a.id);
      await checkMenu(a.id, RunStatus.PAUSED, allowed(RunStatus.PAUSED));
      await send('devfactory.sendDirective', a.id);
      await send('devfactory.resumeRun', a.id);
    } finally {
      for (const run of [c, b, a]) await send('devfactory.cancelRun', run.id).catch(() => undefined);
    }
    await checkMenu(a.id, RunStatus.CANCELLED, allowed(RunStatus.CANCELLED));
  });
});

suite('DevFactory console', () => {
  let api: DevFactoryApi;

  suiteSetup(async () => {
    api = await runningApi();
  });

  test('a chatty run: each streamed message shows once, and the console follows it to the summary', async () => {
    const run = (await vscode.commands.executeCommand<Run>('devfactory.newRun', { prompt: 'Look around', provider: 'scripted', model: 'chatty.json' }))!;
    const editor = await waitFor('the console editor', () =>
      vscode.window.visibleTextEditors.find((e) => e.document.uri.path === `/run-${run.id}.dfconsole`),
    );
    await waitFor('the run to complete', () => api.store.run(run.id)?.status === RunStatus.COMPLETED);
    const document = () => vscode.workspace.textDocuments.find((d) => d.uri.toString() === editor.document.uri.toString())!;
    await waitFor('the summary in the console', () => document().getText().includes('Looked around twelve times.'));
    const text = document().getText();
    const count = (needle: string) => text.split(needle).length - 1;
    for (const line of CHATTY_PLAN.split('\n')) assert.equal(count(line), 1, `plan line ${JSON.stringify(line)} once`);
    assert.equal(count('Noted, recorded as step 7.'), 1);
    assert.equal(count('The greeting is fine.'), 12);
    const lastLine = document().lineCount - 1;
    assert.ok(lastLine > 60, `a console longer than a screen (${lastLine} lines)`);
    await waitFor('the end of the console on screen', () => {
      const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === editor.document.uri.toString());
      const visible = shown?.visibleRanges[shown.visibleRanges.length - 1];
      return visible && visible.end.line >= lastLine - 1;
    }, 10_000);
  });
});
