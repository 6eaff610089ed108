import type { DevFactoryApi } from '../../src/extension';

/**
 * Poll `check` until it returns something truthy (the extension host has no better hook); on a
 * timeout the error ends with `detail()`, what the test saw instead.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail ? `; instead:\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Press Enter in the quick input (accept its focused item) until `done` holds: the quick pick
 * may not be on screen yet when the test gets there.
 */
export async function acceptQuickPickUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const { commands } = await import('vscode');
  await waitFor(what, async () => {
    if (await done()) return true;
    await commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    await new Promise((r) => setTimeout(r, 250));
    return done();
  }, timeoutMs);
}

/** The extension's API once its daemon runs (what each suite starts from). */
export async function runningApi(): Promise<DevFactoryApi> {
  const { extensions } = await import('vscode');
  const api = (await extensions.getExtension<DevFactoryApi>('devfactory.devfactory')!.activate())!;
  await waitFor('the daemon', () => api.client.state === 'running');
  return api;
}
