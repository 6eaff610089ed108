/**
 * The daemon settings the extension sends as initializationOptions. Only values the user set
 * explicitly are sent: sending VS Code's defaults would override the workspace's
 * devfactory.toml, which the daemon ranks below initializationOptions.
 */
import { DAEMON_SETTING_KEYS, PROJECT_SETTING_KEYS } from '../generated/protocol';

/** The value the user set for `devfactory.<key>`, or undefined. */
export type ExplicitSetting = (key: string) => unknown;

/** A setting's values by scope, as `WorkspaceConfiguration.inspect` gives them. */
export interface ScopedValues {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

const FROM_WORKSPACE: ReadonlySet<string> = new Set(PROJECT_SETTING_KEYS);

/**
 * The value to send for the daemon setting `key`: the workspace's own (folder, then workspace)
 * before the user's for what a workspace may set, the user's alone for the rest. A repository's
 * `.vscode/settings.json` is the project's, as untrusted as its `devfactory.toml`: it must not
 * choose the providers and endpoints that get the user's keys, the commands and sandbox, or the
 * MCP servers (package.json gives those settings the `machine` scope; this holds even if an
 * older VS Code reports a workspace value anyway).
 */
export function settingValue(key: string, values: ScopedValues | undefined): unknown {
  if (!FROM_WORKSPACE.has(key)) return values?.globalValue;
  return values?.workspaceFolderValue ?? values?.workspaceValue ?? values?.globalValue;
}

export function daemonInitOptions(lookup: ExplicitSetting): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key of DAEMON_SETTING_KEYS) {
    const value = lookup(key);
    if (value === undefined) continue;
    const parts = key.split('.');
    let target = options;
    for (const part of parts.slice(0, -1)) {
      target = (target[part] ??= {}) as Record<string, unknown>;
    }
    target[parts[parts.length - 1]] = value;
  }
  return options;
}
