/**
 * Run commands: New Run, Pause / Resume / Cancel / Retry / Send Directive, the console and
 * questions. Each takes what the Runs view passes (a node or an id) or asks with a quick pick
 * when run from the palette.
 */
import * as vscode from 'vscode';
import {
  Requests,
  type Run,
  RunControl,
  type RunCreateParams,
} from '../generated/protocol';
import { showInputBox } from '../messages';
import type { RunsNode } from '../views/runsTree';
import { pickRun, registerCommand, type RunArg, type Services } from './services';
import { registerTalkCommands } from './talk';

/** The run controls with a command of their own; which run allows which is RUN_CONTROLS'. */
const CONTROLS = {
  pauseRun: { method: Requests.RUNS_PAUSE, verb: 'Pause', control: RunControl.PAUSE },
  resumeRun: { method: Requests.RUNS_RESUME, verb: 'Resume', control: RunControl.RESUME },
  cancelRun: { method: Requests.RUNS_CANCEL, verb: 'Cancel', control: RunControl.CANCEL },
  retryRun: { method: Requests.RUNS_RETRY, verb: 'Retry', control: RunControl.RETRY },
} as const;

export function registerRunCommands(s: Services): vscode.Disposable[] {
  const controls = Object.entries(CONTROLS).map(([name, control]) =>
    registerCommand(name, async (arg: RunArg) => {
      const runId = await pickRun(s, arg, control.control, `${control.verb} which run?`);
      if (runId === undefined) return undefined;
      const run: Run = await s.client.request(control.method, { runId });
      s.store.applyRun(run);
      if (run.id !== runId) await s.consoles.open(run.id);
      return run;
    }),
  );
  return [
    ...controls,
    // From a view's title the selected tree node comes as the argument: only params create.
    registerCommand('newRun', (arg?: RunCreateParams | RunsNode) => newRun(s, isRunCreateParams(arg) ? arg : undefined)),
    registerCommand('sendDirective', async (arg: RunArg, text?: string) => {
      const runId = await pickRun(s, arg, RunControl.DIRECTIVE, 'Send a directive to which run?');
      const directive = runId === undefined ? undefined : (text ?? (await showInputBox({ prompt: `Directive for run #${runId}'s next turn`, ignoreFocusOut: true })));
      if (runId === undefined || !directive) return undefined;
      s.store.applyRun(await s.client.request(Requests.RUNS_DIRECTIVE, { runId, text: directive }));
    }),
    registerCommand('openConsole', async (arg: RunArg) => {
      const runId = await pickRun(s, arg, undefined, 'Open the console of which run?');
      return runId === undefined ? undefined : s.consoles.open(runId);
    }),
    registerCommand('answerQuestion', async (arg?: RunsNode | number) => {
      const requestId = typeof arg === 'number' ? arg : arg?.kind === 'question' ? arg.requestId : await pickQuestion(s);
      return requestId === undefined ? undefined : s.questions.ask(requestId);
    }),
    registerCommand('refreshRuns', () => s.store.refresh()),
    ...registerTalkCommands(s),
  ];
}

function isRunCreateParams(arg: unknown): arg is RunCreateParams {
  return typeof arg === 'object' && arg !== null && typeof (arg as { prompt?: unknown }).prompt === 'string';
}

/**
 * New Run: from the palette or a view it asks with the run prompt (views/runPrompt.ts; Escape
 * cancels); called with params (tests, keybindings) it creates the run directly.
 */
async function newRun(s: Services, given?: RunCreateParams): Promise<Run | undefined> {
  const params = given ?? (await s.runPrompt.ask());
  if (!params) return undefined;
  const run = await s.client.request(Requests.RUNS_CREATE, { start: true, ...params });
  s.store.applyRun(run);
  await s.consoles.open(run.id);
  return run;
}

async function pickQuestion(s: Services): Promise<number | undefined> {
  const picked = await vscode.window.showQuickPick(
    s.store.pendingQuestions().map((q) => ({ label: q.question, description: `run #${q.runId}`, requestId: q.id })),
    { placeHolder: 'Answer which question?' },
  );
  return picked?.requestId;
}
