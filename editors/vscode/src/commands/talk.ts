/**
 * Talking to runs: Message Run (a directive while it works, the answer while it waits, a
 * follow-up turn once it stopped: devfactory/runs/message), Ask DevFactory about the Selection
 * (a new run with the selection and its problems attached) and Rewind Run (the console's
 * "Rewind to here" lenses: devfactory/runs/rewind).
 */
import * as vscode from 'vscode';
import {
  type ContextDiagnostic,
  type ContextItem,
  Requests,
  type Run,
  RunControl,
  type RunRewindResult,
} from '../generated/protocol';
import { showInformationMessage, showInputBox } from '../messages';
import { pickRun, registerCommand, type RunArg, type Services } from './services';

const SEVERITIES: Record<vscode.DiagnosticSeverity, string> = {
  [vscode.DiagnosticSeverity.Error]: 'error',
  [vscode.DiagnosticSeverity.Warning]: 'warning',
  [vscode.DiagnosticSeverity.Information]: 'information',
  [vscode.DiagnosticSeverity.Hint]: 'hint',
};

export function registerTalkCommands(s: Services): vscode.Disposable[] {
  return [
    registerCommand('messageRun', async (arg: RunArg, text?: string) => {
      const runId = await pickRun(s, arg, RunControl.MESSAGE, 'Message which run?');
      if (runId === undefined) return undefined;
      const message =
        text ??
        (await showInputBox({
          title: `Message run #${runId}`,
          prompt: 'A directive while it works, your answer while it waits, a follow-up once it stopped. @file and @symbol attach them.',
          ignoreFocusOut: true,
        }));
      if (!message) return undefined;
      const run: Run = await s.client.request(Requests.RUNS_MESSAGE, { runId, text: message });
      s.store.applyRun(run);
      await s.consoles.open(run.id);
      return run;
    }),
    registerCommand('askAboutSelection', async (question?: string) => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.uri.scheme !== 'file') {
        void showInformationMessage('DevFactory: select code in a file of the workspace first.');
        return undefined;
      }
      const prompt = question ?? (await showInputBox({ title: 'Ask DevFactory about the selection', prompt: 'Your question or task', ignoreFocusOut: true }));
      if (!prompt) return undefined;
      const run: Run = await s.client.request(Requests.RUNS_CREATE, { prompt, context: selectionContext(editor), start: true });
      s.store.applyRun(run);
      await s.consoles.open(run.id);
      return run;
    }),
    registerCommand('rewindRun', async (arg: RunArg, step?: number) => {
      const runId = await pickRun(s, arg, RunControl.REWIND, 'Rewind which run?');
      if (runId === undefined) return undefined;
      const target = step ?? (await askStep());
      if (target === undefined) return undefined;
      const where = target === 0 ? 'its start' : `step ${target}`;
      const confirm = await vscode.window.showQuickPick(['Rewind', 'Cancel'], {
        title: `Rewind run #${runId} to ${where}? Its worktree and conversation go back there; changes proposed later are withdrawn.`,
        ignoreFocusOut: true,
      });
      if (confirm !== 'Rewind') return undefined;
      const result: RunRewindResult = await s.client.request(Requests.RUNS_REWIND, { runId, step: target });
      s.store.applyRun(result.run);
      return result;
    }),
  ];
}

/** The editor's selection (the whole file when nothing is selected) and the problems in it. */
export function selectionContext(editor: vscode.TextEditor): ContextItem[] {
  const selection = editor.selection;
  const range = selection.isEmpty
    ? null
    : { start: { line: selection.start.line, character: selection.start.character }, end: { line: selection.end.line, character: selection.end.character } };
  const diagnostics: ContextDiagnostic[] = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((d) => selection.isEmpty || d.range.intersection(selection) !== undefined)
    .map((d) => ({
      range: { start: { line: d.range.start.line, character: d.range.start.character }, end: { line: d.range.end.line, character: d.range.end.character } },
      message: d.message,
      severity: SEVERITIES[d.severity],
      source: d.source ?? null,
    }));
  const uri = editor.document.uri.toString();
  if (range) return [{ uri, range, diagnostics }];
  return diagnostics.length ? [{ uri }, { uri, diagnostics }] : [{ uri }];
}

async function askStep(): Promise<number | undefined> {
  const answer = await showInputBox({
    title: 'Rewind to which step?',
    prompt: "0 is the run's start; the console shows a step's checkpoint",
    validateInput: (value) => (/^\d+$/.test(value.trim()) ? undefined : 'a step number'),
    ignoreFocusOut: true,
  });
  return answer === undefined ? undefined : Number(answer.trim());
}
