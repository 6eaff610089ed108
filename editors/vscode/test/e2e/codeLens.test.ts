/**
 * Layer 2: toggling devfactory.codeLens.enabled takes effect at once. VS Code asks a provider for
 * lenses again only when its onDidChangeCodeLenses fires; the provider fired it on the store's
 * and the diagnostics' changes only, so the lenses stayed (or stayed away) until the file or a
 * run changed. The suite builds its own provider over an empty RunStore, so only the setting
 * can make it fire.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RunStore } from '../../src/model/runStore';
import { ReviewCodeLensProvider } from '../../src/review/codeLens';
import { runningApi } from './wait';

/** Resolve with the number of times `event` fired during `ms` milliseconds from now. */
async function firings(event: vscode.Event<void>, ms: number, during: () => Thenable<void> = async () => undefined): Promise<number> {
  let count = 0;
  const subscription = event(() => count++);
  try {
    await during();
    await new Promise((r) => setTimeout(r, ms));
    return count;
  } finally {
    subscription.dispose();
  }
}

suite('DevFactory CodeLens setting', () => {
  test('toggling devfactory.codeLens.enabled asks VS Code for the lenses again', async () => {
    const api = await runningApi();
    const store = new RunStore(api.client);
    const lenses = new ReviewCodeLensProvider(store, api.root);
    const config = vscode.workspace.getConfiguration('devfactory');
    const previous = config.inspect<boolean>('codeLens.enabled')?.workspaceValue;
    try {
      // Daemon diagnostics fire it too: wait for a quiet second, so a firing below is the setting's.
      for (let tries = 0; (await firings(lenses.onDidChangeCodeLenses, 1000)) > 0; tries++) assert.ok(tries < 10, 'the lenses never went quiet');
      for (const enabled of [false, true]) {
        const fired = await firings(lenses.onDidChangeCodeLenses, 1000, () => config.update('codeLens.enabled', enabled, vscode.ConfigurationTarget.Workspace));
        assert.ok(fired > 0, `the lenses were not refreshed when the setting became ${enabled}`);
      }
    } finally {
      await config.update('codeLens.enabled', previous, vscode.ConfigurationTarget.Workspace);
      lenses.dispose();
      store.dispose();
    }
  });
});
