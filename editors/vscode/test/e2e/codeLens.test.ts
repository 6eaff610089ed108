/**
 * Layer 2: toggling devfactory.codeLens.enabled takes effect at once. VS Code asks a provider for
 * lenses again only when its onDidChangeCodeLenses fires; the provider fired it on the store's
 * and the diagnostics' changes only, so the lenses stayed (or stayed away) until the file or a
 * run changed. The suite builds its own provider over an empty RunStore, so besides
 * diagnostics only the setting can make it fire.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RunStore } from '../../src/model/runStore';
import { ReviewCodeLensProvider } from '../../src/review/codeLens';
import { runningApi } from './wait';

/**
 * How often the provider fired for something other than diagnostics while `during` ran, and for
 * half a second after. Diagnostics fire it too, and some change while the setting is written (a
 * plain "did it fire" check passed without the fix): each fires it once, so they are subtracted.
 */
async function firingsBesidesDiagnostics(provider: ReviewCodeLensProvider, during: () => Thenable<void>): Promise<number> {
  let count = 0;
  const subscriptions = [provider.onDidChangeCodeLenses(() => count++), vscode.languages.onDidChangeDiagnostics(() => count--)];
  try {
    await during();
    await new Promise((r) => setTimeout(r, 500));
    return count;
  } finally {
    subscriptions.forEach((s) => s.dispose());
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
      for (const enabled of [false, true]) {
        const fired = await firingsBesidesDiagnostics(lenses, () => config.update('codeLens.enabled', enabled, vscode.ConfigurationTarget.Workspace));
        assert.ok(fired > 0, `the lenses were not refreshed when the setting became ${enabled}`);
      }
    } finally {
      await config.update('codeLens.enabled', previous, vscode.ConfigurationTarget.Workspace);
      lenses.dispose();
      store.dispose();
    }
  });
});
