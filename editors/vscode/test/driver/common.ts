/**
 * Shared by the layer-2 and layer-3 drivers: the tools from scripts/install-tools.sh, a VS Code
 * server (the one bundled in code-server, or code-server itself) on a free loopback port in its
 * own process group, headless Debian Chromium through playwright-core, and TAP-ish reporting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DAEMON } from '../support/daemon';

export const NODE24_BIN = required('NODE24_BIN');
export const CODE_SERVER_DIR = required('CODE_SERVER_DIR');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** Gallery queries go to a dead loopback port instead of the internet. */
const GALLERY = JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' });

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: source the env file printed by editors/vscode/scripts/install-tools.sh`);
  return value;
}

export function scratchDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `devfactory-${label}-`));
}

/** Workspace settings pointing the extension at the daemon under test. */
export function writeWorkspaceSettings(workspace: string, extra: Record<string, unknown> = {}): void {
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'devfactory.server.path': DAEMON, ...extra }, null, 2));
}

/**
 * The user's settings on the server (`<user-data-dir>/Machine/settings.json`): the daemon
 * settings that choose providers, commands and the like are `machine`-scoped, so a workspace's
 * `.vscode/settings.json` cannot set them.
 */
export function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): void {
  mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Server {
  url: string;
  process: ChildProcess;
  log: string[];
  stop(): Promise<void>;
}

/** Start `args` under Node 24 in a new process group and wait until `url` answers. */
export async function startServer(args: string[], port: number, env: Record<string, string> = {}): Promise<Server> {
  const log: string[] = [];
  const child = spawn(join(NODE24_BIN, 'node'), args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${NODE24_BIN}:${process.env.PATH}`, EXTENSIONS_GALLERY: GALLERY, ...env },
  });
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log.join('')}`);
    try {
      if ((await fetch(`${url}/`, { redirect: 'manual' })).status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not answer on ${url}:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    process: child,
    log,
    // VS Code's server spawns helper processes that outlive it: end the whole group.
    stop: async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Record every host the page talks to (the tests assert it is only the loopback server). */
export function watchHosts(page: Page): Set<string> {
  const hosts = new Set<string>();
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http') || url.protocol.startsWith('ws')) hosts.add(url.host);
  });
  return hosts;
}

export class Checks {
  passed = 0;
  failed = 0;

  async check(name: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      this.passed += 1;
      console.log(`ok - ${name}`);
      return true;
    } catch (error) {
      this.failed += 1;
      console.log(`not ok - ${name}: ${String((error as Error)?.message ?? error).split('\n')[0]}`);
      return false;
    }
  }
}
