/**
 * Layer 2 driver: runs test/e2e (mocha, in the real extension host) against the unzipped .vsix
 * as the development extension, in the VS Code server bundled with code-server (its CLI refuses
 * --enable-smoke-test-driver, which the test payload needs). Chromium opens the workbench;
 * VS Code reports the suite's console and exit code through codeAutomationLog/Exit.
 * Usage: node out/driver/extensionHost.cjs <unzipped-extension-dir>
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { reviewWorkspace } from '../support/workspace';
import { CODE_SERVER_DIR, freePort, launchBrowser, scratchDir, startServer, watchHosts, writeWorkspaceSettings } from './common';

const TIMEOUT_MS = 240_000;

async function main(): Promise<number> {
  const extension = resolve(process.argv[2] ?? '');
  const tests = resolve(__dirname, '..', 'e2e');
  const scratch = scratchDir('exthost');
  const workspace = reviewWorkspace(join(scratch, 'workspace'));
  writeWorkspaceSettings(workspace);
  const port = await freePort();
  const server = await startServer(
    [
      join(CODE_SERVER_DIR, 'lib', 'vscode', 'out', 'server-main.js'),
      '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
      '--enable-smoke-test-driver', '--disable-telemetry', '--disable-workspace-trust',
      '--extensions-dir', join(scratch, 'extensions'), '--user-data-dir', join(scratch, 'user-data'),
    ],
    port,
    { XDG_CONFIG_HOME: join(scratch, 'xdg-config'), XDG_DATA_HOME: join(scratch, 'xdg-data'), DEVFACTORY_E2E_WORKSPACE: workspace },
  );
  const browser = await launchBrowser();
  let result = 1;
  try {
    const page = await browser.newPage();
    const hosts = watchHosts(page);
    let exit: (code: number | string) => void = () => undefined;
    const exited = new Promise<number | string>((r) => (exit = r));
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown) => console.log(...(Array.isArray(args) ? args : [args])));
    await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(extension)],
      ['extensionTestsPath', remote(join(tests, 'index.js'))],
      ['skipWelcome', 'true'],
    ]);
    const started = Date.now();
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    const timer = setTimeout(() => exit('timeout'), TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    console.log(`# extension-host suite exit code ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const foreign = [...hosts].filter((h) => h !== `127.0.0.1:${port}`);
    if (foreign.length) console.log(`not ok - the page contacted ${foreign.join(', ')}`);
    if (code !== 0) console.log(server.log.join('').split('\n').slice(-40).join('\n'));
    result = code === 0 && foreign.length === 0 ? 0 : 1;
    return result;
  } finally {
    await browser.close();
    await server.stop();
    if (result === 0) rmSync(scratch, { recursive: true, force: true }); // keep a failure's logs and workspace
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
