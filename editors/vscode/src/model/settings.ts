/**
 * The daemon settings the extension sends as initializationOptions. Only values the user set
 * explicitly are sent: sending VS Code's defaults would override the workspace's
 * devfactory.toml, which the daemon ranks below initializationOptions.
 */
import { DAEMON_SETTING_KEYS } from '../generated/protocol';

/** The value the user set for `devfactory.<key>` (any scope), or undefined. */
export type ExplicitSetting = (key: string) => unknown;

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
