/**
 * Typed access to the extension's settings. The client's own settings (`devfactory.server.*`,
 * `devfactory.codeLens.enabled`, `devfactory.review.inline`) are written by hand in
 * package.json; the daemon's come from its settings schema (scripts/generate.mjs) and are
 * forwarded by model/settings.ts.
 */
import * as vscode from 'vscode';
import type { ServerSettings } from './model/daemonCommand';
import { settingValue } from './model/settings';

const SECTION = 'devfactory';

export function serverSettings(): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    path: config.get<string>('server.path', 'devfactory'),
    pythonPath: config.get<string>('server.pythonPath', ''),
  };
}

/** Read on every request for lenses; the provider refreshes them when it changes. */
export const CODELENS_SETTING = `${SECTION}.codeLens.enabled`;

export function codeLensEnabled(): boolean {
  return vscode.workspace.getConfiguration().get<boolean>(CODELENS_SETTING, true);
}

export function inlineReviewEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('review.inline', true);
}

/** The value set for the daemon setting `devfactory.<key>`, or undefined (not the default). */
export function explicitSetting(key: string): unknown {
  return settingValue(key, vscode.workspace.getConfiguration(SECTION).inspect(key));
}

/** Settings the extension applies live (everything else needs a daemon restart). */
const LIVE = ['codeLens', 'review.inline', 'trace'].map((key) => `${SECTION}.${key}`);

/** True when a change to the configuration needs a daemon restart to take effect. */
export function affectsDaemon(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(SECTION) && !LIVE.some((key) => event.affectsConfiguration(key));
}
