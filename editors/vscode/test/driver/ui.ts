/**
 * Layer 3, one UI smoke test as a user would do it: the .vsix installed into code-server,
 * Chromium drives the workbench: DevFactory: New Run from the command palette (one prompt, with
 * the defaults the workspace settings give), answer the run's question, see the notification that
 * the run completed and open its changes from it, open app.py, see the proposed-change
 * decoration and CodeLens, hover it for Approve · Reject · Diff, approve with Ctrl+., save,
 * and find the file changed on disk; then New Run from the Runs view's title with a run
 * selected (its Mode button), and the console. Before all that, the workspace's devfactory.toml
 * holds a setting that waits for trust: its warning's Review and trust… shows it, the modal's
 * Trust records it and the daemon restarts. With DEVFACTORY_SCREENSHOTS set, each view is
 * also saved as a PNG there (`make screenshots`). Usage: node out/driver/ui.cjs <vsix>
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { APP_PY, git, reviewWorkspace, writeFiles } from '../support/workspace';
import { Checks, CODE_SERVER_DIR, freePort, launchBrowser, NODE24_BIN, scratchDir, startServer, watchHosts, writeUserSettings, writeWorkspaceSettings } from './common';

const CODE_SERVER = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');

async function palette(page: Page, command: string): Promise<void> {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().click();
}

/** Answer the quick input showing `title` (or any, when omitted) with `text` (Enter alone for the default). */
async function answer(page: Page, text: string, title?: RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget', title ? { hasText: title } : {});
  await widget.waitFor({ state: 'visible', timeout: 20_000 });
  if (text) await page.keyboard.type(text);
  await page.waitForTimeout(150);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
}

/** With DEVFACTORY_SCREENSHOTS=<dir> (`make screenshots`), what the user sees is kept there. */
const SHOTS = process.env.DEVFACTORY_SCREENSHOTS;

async function shot(page: Page, name: string, around?: Locator): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const box = around ? await around.boundingBox() : null;
  const margin = 24;
  const clip = box
    ? { x: Math.max(box.x - margin, 0), y: Math.max(box.y - margin, 0), width: box.width + 2 * margin, height: box.height + 2 * margin }
    : undefined;
  await page.screenshot({ path: join(SHOTS, `vscode-${name}.png`), clip });
}

async function main(): Promise<number> {
  const vsix = resolve(process.argv[2] ?? '');
  const scratch = scratchDir('ui');
  const workspace = reviewWorkspace(join(scratch, 'workspace'));
  // A cloned repository's own setting that waits for the user's trust (harmless here).
  writeFiles(workspace, { 'devfactory.toml': '[commands]\ndefault_timeout_s = 301\n' });
  git(workspace, 'add', 'devfactory.toml');
  git(workspace, 'commit', '-q', '-m', 'settings');
  writeWorkspaceSettings(workspace, {
    'workbench.startupEditor': 'none',
    'chat.disableAIFeatures': true,
    'workbench.view.alwaysShowHeaderActions': true,
  });
  writeUserSettings(join(scratch, 'user-data'), {
    'devfactory.defaultProvider': 'scripted',
    'devfactory.providers': { scripted: { script: 'review.json' } },
  });
  const dirs = ['--extensions-dir', join(scratch, 'extensions'), '--user-data-dir', join(scratch, 'user-data')];
  const env = { XDG_CONFIG_HOME: join(scratch, 'xdg-config'), XDG_DATA_HOME: join(scratch, 'xdg-data') };
  execFileSync(join(NODE24_BIN, 'node'), [CODE_SERVER, ...dirs, '--install-extension', vsix], {
    env: { ...process.env, ...env, PATH: `${NODE24_BIN}:${process.env.PATH}` },
    stdio: 'inherit',
  });
  const port = await freePort();
  const server = await startServer(
    [CODE_SERVER, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', ...dirs, workspace],
    port,
    env,
  );
  const browser = await launchBrowser();
  const checks = new Checks();
  const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
  const hosts = watchHosts(page);
  const started = Date.now();
  try {
    await checks.check('the workbench opens the workspace with DevFactory running', async () => {
      await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.py' }).waitFor({ timeout: 60_000 });
      await page.locator('.statusbar-item', { hasText: /DevFactory/ }).first().waitFor({ timeout: 30_000 });
      await page.locator('.statusbar-item [class*="codicon-rocket"]').first().waitFor({ timeout: 30_000 });
      // Room for the editor: no secondary side bar (chat) in the way.
      if (await page.locator('.part.auxiliarybar').isVisible()) await page.keyboard.press('Control+Alt+B');
    });
    await checks.check("the workspace's setting awaiting trust is announced once, with Review and trust…", async () => {
      const toast = page.locator('.notification-toast', { hasText: /this workspace's devfactory\.toml sets what runs as you/ });
      await toast.waitFor({ timeout: 30_000 });
      if (await page.locator('.notification-toast', { hasText: 'devfactory trust -w' }).count()) throw new Error("the daemon's own warning showed too");
      await toast.locator('.monaco-button', { hasText: 'Review and trust…' }).click();
    });
    await checks.check('the review shows the value; Trust in the modal records it and restarts the daemon', async () => {
      await page.locator('.tabs-container .tab', { hasText: 'workspace settings awaiting trust' }).first().waitFor({ timeout: 20_000 });
      await page.locator('.editor-instance .view-lines', { hasText: '"defaultTimeoutS": 301' }).first().waitFor({ timeout: 10_000 });
      const dialog = page.locator('.monaco-dialog-box', { hasText: "Trust the settings of this workspace's devfactory.toml?" });
      await dialog.waitFor({ timeout: 10_000 });
      await shot(page, 'trust');
      await dialog.locator('.monaco-button', { hasText: /^Trust$/ }).click();
      await page.locator('.notification-toast', { hasText: 'the daemon restarted with them' }).waitFor({ timeout: 30_000 });
      const record = readFileSync(join(scratch, 'xdg-config', 'devfactory', 'trusted-workspaces.json'), 'utf8');
      if (!record.includes(JSON.stringify(workspace))) throw new Error(`trusted-workspaces.json: ${record}`);
      await page.locator('.statusbar-item [class*="codicon-rocket"]').first().waitFor({ timeout: 30_000 });
      await palette(page, 'Notifications: Clear All Notifications');
    });
    await checks.check('DevFactory: New Run from the palette starts a run that asks a question', async () => {
      await palette(page, 'DevFactory: New Run');
      // One prompt: the task, with the workspace's defaults (scripted, its script, review).
      await answer(page, 'Make greet() say hello', /New Run · backend · scripted \(default model\) · review/);
      await answer(page, '', /Also update the docs\?/); // first choice: yes
      await page.locator('.tabs-container .tab', { hasText: /run-\d+\.dfconsole/ }).first().waitFor({ timeout: 20_000 });
    });
    await checks.check("the run's end is announced, and Review Changes opens its changes", async () => {
      const toast = page.locator('.notification-toast', { hasText: /Run 1 completed: review 2 changes/ });
      await toast.waitFor({ timeout: 30_000 });
      await toast.locator('.monaco-button', { hasText: 'Review Changes' }).click();
      await page.locator('.tabs-container .tab', { hasText: /current ↔ run #1/ }).first().waitFor({ timeout: 20_000 });
    });
    await checks.check("the diff editor's title offers Approve and Reject", async () => {
      const actions = page.locator('.editor-group-container.active .editor-actions');
      await actions.locator('a.action-label[aria-label^="Approve Change"]').waitFor({ timeout: 10_000 });
      await actions.locator('a.action-label[aria-label^="Reject Change"]').waitFor({ timeout: 10_000 });
      await shot(page, 'diff');
    });
    await checks.check('app.py shows the proposed hunks as diagnostics with Approve · Reject · Diff lenses', async () => {
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
      await page.keyboard.type('app.py');
      // The file itself, not the recently opened diff of it.
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'app.py' }).filter({ hasNotText: '↔' }).first().click();
      const editor = page.locator('.editor-instance .monaco-editor').first();
      await editor.locator('.view-lines', { hasText: 'def greet' }).waitFor({ timeout: 20_000 });
      await editor.locator('.squiggly-hint').first().waitFor({ timeout: 30_000 });
      await editor.locator('.codelens-decoration', { hasText: 'Approve' }).first().waitFor({ timeout: 30_000 });
    });
    await checks.check("hovering a proposed hunk shows the run's lines with Approve · Reject · Diff", async () => {
      const editor = page.locator('.editor-instance .monaco-editor').first();
      // On the text itself, as a user points at it (past the end of a line hovers nothing).
      await editor.locator('.view-line', { hasText: "return 'bye'" }).first().locator('span', { hasText: /^'bye'$/ }).last().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'Run #1 proposes' }).first();
      await hover.waitFor({ state: 'visible', timeout: 15_000 });
      for (const link of ['Approve', 'Reject', 'Diff']) await hover.locator('a', { hasText: link }).first().waitFor();
      await shot(page, 'review', page.locator('.editor-instance').first());
      await page.mouse.move(5, 5);
      await page.keyboard.press('Escape');
    });
    await checks.check('Ctrl+. on the first hunk approves it in the editor', async () => {
      await page.keyboard.press('Control+G');
      await page.keyboard.type('2');
      await page.keyboard.press('Enter');
      const approve = page.locator('.action-widget .monaco-list-row.action', { hasText: 'DevFactory: Approve this hunk' }).first();
      // As a user would: if the quick-fix menu did not come up (the keystroke raced the
      // go-to-line box closing), press Ctrl+. again.
      for (let attempt = 0; attempt < 3 && !(await approve.isVisible()); attempt++) {
        await page.waitForTimeout(500);
        await page.keyboard.press('Control+.');
        await approve.waitFor({ timeout: 5_000 }).catch(() => undefined);
      }
      await approve.click();
      const editor = page.locator('.editor-instance .monaco-editor').first();
      await editor.locator('.view-lines', { hasText: "return 'hello'" }).waitFor({ timeout: 15_000 });
    });
    await checks.check('Ctrl+S saves the approved change to disk', async () => {
      await page.keyboard.press('Control+S');
      const expected = APP_PY.replace("return 'hi'", "return 'hello'");
      const deadline = Date.now() + 10_000;
      while (readFileSync(join(workspace, 'app.py'), 'utf8') !== expected) {
        if (Date.now() > deadline) throw new Error(`app.py on disk:\n${readFileSync(join(workspace, 'app.py'), 'utf8')}`);
        await page.waitForTimeout(200);
      }
    });
    await checks.check("New Run in the Runs view title, with a run selected, asks again; its Mode button changes the run's mode", async () => {
      await palette(page, 'DevFactory: Focus on Runs View');
      await page.locator('.pane-body .monaco-list-row', { hasText: /#1 / }).first().click();
      await page.locator('.title-actions a.action-label[aria-label^="New Run"], .pane-header a.action-label[aria-label^="New Run"]').first().click();
      const prompt = page.locator('.quick-input-widget', { hasText: /New Run · backend · scripted \(default model\) · review/ });
      await prompt.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type('Try yolo');
      await page.locator('.quick-input-widget .quick-input-titlebar a.action-label[aria-label^="Mode: review"]').click();
      await answer(page, 'yolo', /New Run · mode/);
      // Back in the prompt, the task kept and the mode changed.
      await page.locator('.quick-input-widget', { hasText: /New Run · backend · scripted \(default model\) · yolo/ }).waitFor({ timeout: 10_000 });
      if ((await page.locator('.quick-input-widget input').inputValue()) !== 'Try yolo') throw new Error('the task was lost');
      await shot(page, 'new-run', page.locator('.quick-input-widget'));
      await page.keyboard.press('Escape');
    });
    await checks.check('the console reads like a conversation next to the Runs view', async () => {
      await page.locator('.tabs-container .tab', { hasText: /run-1\.dfconsole/ }).first().click();
      const lines = page.locator('.editor-instance .view-lines').first();
      await lines.click();
      await page.keyboard.press('Control+Home'); // from the task and the plan on
      await lines.locator('.view-line', { hasText: 'Task' }).first().waitFor({ timeout: 10_000 });
      await shot(page, 'console');
    });
    await checks.check('the page talked to the loopback server only', async () => {
      const foreign = [...hosts].filter((h) => h !== `127.0.0.1:${port}`);
      if (foreign.length) throw new Error(`contacted ${foreign.join(', ')}`);
    });
  } finally {
    await page.screenshot({ path: join(scratch, 'ui-smoke.png') });
    console.log(`# screenshot: ${join(scratch, 'ui-smoke.png')}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await browser.close();
    await server.stop();
  }
  console.log(`ui: ${checks.passed} passed, ${checks.failed} failed`);
  if (checks.failed === 0) rmSync(scratch, { recursive: true, force: true }); // keep the screenshot of a failure
  return checks.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
