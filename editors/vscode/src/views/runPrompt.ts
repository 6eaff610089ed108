/**
 * New Run as one prompt: an input box for the task, with the agent, provider, model, mode and
 * plan-first as buttons in its title bar. It starts from the choices of the last run made here (the
 * workspace's memento) where the settings did not change since, else the settings' defaults
 * (model/runChoices.ts), and says in its prompt when the daemon's
 * health finds that the chosen provider cannot run (a key variable not set, a local server
 * down), before the run would fail on it.
 */
import * as vscode from 'vscode';
import { AgentRole, ExecutionMode, type Health, ProviderName, type RunCreateParams } from '../generated/protocol';
import { showInputBox } from '../messages';
import { type Defaults, type Remembered, remember, type RunChoices, startingChoices } from '../model/runChoices';

const MEMENTO_KEY = 'devfactory.newRun';

/** The settings' defaults for a new run. */
function defaults(): Defaults {
  const config = vscode.workspace.getConfiguration('devfactory');
  return {
    agent: (config.get<string>('defaultAgent') as AgentRole) ?? AgentRole.BACKEND,
    provider: config.get<string>('defaultProvider') ?? ProviderName.OPENAI,
    mode: (config.get<string>('defaultMode') as ExecutionMode) ?? ExecutionMode.REVIEW,
  };
}

type Choice = 'agent' | 'provider' | 'model' | 'mode' | 'plan';

export class RunPrompt {
  /** The input box while it is open (tests fill it in). */
  active: vscode.InputBox | undefined;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly health: () => Promise<Health | undefined>,
  ) {}

  /** The choices a new run starts from. */
  choices(): RunChoices {
    return startingChoices(this.memento.get<Remembered>(MEMENTO_KEY), defaults());
  }

  /** Ask for a run: its params, or undefined when dismissed. */
  async ask(): Promise<RunCreateParams | undefined> {
    const choices = this.choices();
    let value = '';
    for (;;) {
      const answer = await this.once(choices, value);
      if (!answer) return undefined;
      value = answer.value;
      if (answer.change === undefined) {
        if (!value.trim()) continue;
        await this.memento.update(MEMENTO_KEY, remember(choices, defaults()));
        const model = choices.models[choices.provider]?.trim();
        return { prompt: value.trim(), agent: choices.agent, provider: choices.provider, mode: choices.mode, model: model || null, plan: choices.plan, start: true };
      }
      await this.change(choices, answer.change);
    }
  }

  /** Show the input box until Enter (change undefined), a button (its choice) or Escape. */
  private once(choices: RunChoices, value: string): Promise<{ value: string; change?: Choice } | undefined> {
    const box = vscode.window.createInputBox();
    const model = choices.models[choices.provider] || 'default model';
    box.title = `DevFactory: New Run · ${choices.agent} · ${choices.provider} (${model}) · ${choices.mode}${choices.plan ? ' · plan first' : ''}`;
    box.placeholder = 'What should the agent do?';
    box.value = value;
    box.ignoreFocusOut = true;
    box.prompt = 'Enter starts the run; the buttons change the agent, provider, model, mode and plan-first. @file and @symbol attach them.';
    const buttons: { button: vscode.QuickInputButton; change: Choice }[] = [
      { button: { iconPath: new vscode.ThemeIcon('person'), tooltip: `Agent: ${choices.agent}` }, change: 'agent' },
      { button: { iconPath: new vscode.ThemeIcon('server-environment'), tooltip: `Provider: ${choices.provider}` }, change: 'provider' },
      { button: { iconPath: new vscode.ThemeIcon('symbol-property'), tooltip: `Model: ${model}` }, change: 'model' },
      { button: { iconPath: new vscode.ThemeIcon(choices.mode === ExecutionMode.YOLO ? 'zap' : 'eye'), tooltip: `Mode: ${choices.mode}` }, change: 'mode' },
      { button: { iconPath: new vscode.ThemeIcon(choices.plan ? 'checklist' : 'play'), tooltip: `Plan first: ${choices.plan ? 'on' : 'off'}` }, change: 'plan' },
    ];
    box.buttons = buttons.map((b) => b.button);
    void this.health().then((health) => {
      const check = health?.provider;
      if (check && check.name === choices.provider && !check.ready && check.problem) {
        box.validationMessage = { message: `$(warning) ${check.problem}`, severity: vscode.InputBoxValidationSeverity.Warning };
      }
    });
    this.active = box;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (answer: { value: string; change?: Choice } | undefined) => {
        if (settled) return;
        settled = true;
        this.active = undefined;
        resolve(answer);
        box.dispose();
      };
      box.onDidAccept(() => settle({ value: box.value }));
      box.onDidTriggerButton((button) => settle({ value: box.value, change: buttons.find((b) => b.button === button)?.change }));
      box.onDidHide(() => settle(undefined));
      box.show();
    });
  }

  private async change(choices: RunChoices, change: Choice): Promise<void> {
    if (change === 'plan') {
      choices.plan = !choices.plan;
      return;
    }
    if (change === 'model') {
      const model = await showInputBox({
        title: `Model for ${choices.provider}`,
        prompt: choices.provider === ProviderName.SCRIPTED ? 'Script file relative to the workspace (empty: providers.scripted.script)' : 'Model (empty: the provider default)',
        value: choices.models[choices.provider] ?? '',
        ignoreFocusOut: true,
      });
      if (model !== undefined) choices.models = { ...choices.models, [choices.provider]: model.trim() };
      return;
    }
    const values: Record<Exclude<Choice, 'model' | 'plan'>, string[]> = {
      agent: Object.values(AgentRole),
      provider: Object.values(ProviderName),
      mode: Object.values(ExecutionMode),
    };
    const current = choices[change];
    const picked = await vscode.window.showQuickPick(
      values[change].map((label) => ({ label, description: label === current ? 'current' : undefined })),
      { title: `New Run · ${change}`, ignoreFocusOut: true },
    );
    if (!picked) return;
    if (change === 'agent') choices.agent = picked.label as AgentRole;
    else if (change === 'mode') choices.mode = picked.label as ExecutionMode;
    else choices.provider = picked.label;
  }
}
