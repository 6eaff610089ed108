/**
 * What a new run starts from: the choices of the last run made in this workspace, remembered,
 * or the settings' defaults. A remembered choice yields to a setting changed since it was made:
 * after the README's scripted demo, setting `devfactory.defaultProvider` to `openai` must give
 * openai runs, not the demo's script again.
 */
import type { AgentRole, ExecutionMode } from '../generated/protocol';

/** What a new run is made with besides its task. */
export interface RunChoices {
  agent: AgentRole;
  provider: string;
  mode: ExecutionMode;
  /** Model (for `scripted`: the script) by provider; missing or empty: the provider's default. */
  models: Record<string, string>;
  /** Plan mode: the agent explores read-only and acts once you approve its plan. */
  plan: boolean;
}

/** The settings a choice has a default in (`devfactory.defaultAgent`, ...). */
export type Defaults = Pick<RunChoices, 'agent' | 'provider' | 'mode'>;

/** What the workspace memento keeps: the choices, and the defaults they were made under. */
export interface Remembered extends Partial<RunChoices> {
  defaults?: Partial<Defaults>;
}

export function remember(choices: RunChoices, defaults: Defaults): Remembered {
  return { ...choices, defaults: { ...defaults } };
}

export function startingChoices(remembered: Remembered | undefined, defaults: Defaults): RunChoices {
  const { defaults: madeUnder, ...choices } = remembered ?? {};
  /** The remembered choice, unless the setting moved since (a memento from before kept it as it is). */
  const pick = <K extends keyof Defaults>(key: K): Defaults[K] => {
    const chosen = choices[key] as Defaults[K] | undefined;
    return chosen !== undefined && (madeUnder === undefined || madeUnder[key] === defaults[key]) ? chosen : defaults[key];
  };
  return { agent: pick('agent'), provider: pick('provider'), mode: pick('mode'), models: choices.models ?? {}, plan: choices.plan ?? false };
}
