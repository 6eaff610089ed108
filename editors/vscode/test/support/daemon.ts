/**
 * The real daemon for the node tests: `devfactory serve --stdio` (the repo's .venv after
 * `uv sync`, or $DEVFACTORY_DAEMON) spoken to with vscode-languageserver-protocol, the JSON-RPC
 * library vscode-languageclient itself uses. It implements the models' DaemonApi, so the tests
 * drive RunStore / EventLog with what the daemon really sends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  type InitializeResult,
  type ProtocolConnection,
  ShowMessageNotification,
  type ShowMessageParams,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import type {
  NotificationMethod,
  NotificationTypes,
  RequestMethod,
  RequestParams,
  RequestResult,
} from '../../src/generated/protocol';
import type { DaemonApi } from '../../src/model/daemonApi';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
export const DAEMON = process.env.DEVFACTORY_DAEMON ?? resolve(REPO_ROOT, '.venv', 'bin', 'devfactory');

type Received = { method: string; params: unknown };

export class TestDaemon implements DaemonApi {
  readonly received: Received[] = [];
  readonly messages: ShowMessageParams[] = [];
  private waiters: Array<() => void> = [];
  private listeners: Array<(note: Received) => void> = [];
  initializeResult: InitializeResult | undefined;

  private constructor(
    readonly process: ChildProcess,
    readonly connection: ProtocolConnection,
  ) {}

  /** Spawn and initialize a daemon on `workspace`; `settings` go as initializationOptions. */
  static async start(workspace: string, settings: Record<string, unknown> = {}): Promise<TestDaemon> {
    const child = spawn(DAEMON, ['serve', '--stdio'], { cwd: workspace, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const daemon = new TestDaemon(child, connection);
    connection.onUnhandledNotification(({ method, params }) => daemon.record({ method, params }));
    connection.onNotification(ShowMessageNotification.type, (p) => {
      daemon.messages.push(p);
      daemon.record({ method: ShowMessageNotification.method, params: p });
    });
    connection.onRequest('workspace/configuration', () => []);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onRequest('client/registerCapability', () => null);
    connection.listen();
    const uri = pathToFileURL(workspace).href;
    try {
      daemon.initializeResult = await connection.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        rootUri: uri,
        workspaceFolders: [{ uri, name: 'workspace' }],
        capabilities: { window: { workDoneProgress: true }, workspace: { applyEdit: true } },
        initializationOptions: settings,
      });
    } catch (error) {
      child.kill();
      throw new Error(`daemon ${DAEMON} did not initialize: ${String(error)}\n${stderr.join('')}`);
    }
    await connection.sendNotification(InitializedNotification.type, {});
    return daemon;
  }

  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    return this.connection.sendRequest(method, params) as Promise<RequestResult<M>>;
  }

  /** Notifications of one method received so far. */
  notes<M extends NotificationMethod>(method: M): NotificationTypes[M][] {
    return this.received.filter((n) => n.method === method).map((n) => n.params as NotificationTypes[M]);
  }

  /** Wait until `predicate` holds over what has been received (re-checked on each notification). */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Call `handler` with every later notification of `method`. */
  on<M extends NotificationMethod>(method: M, handler: (params: NotificationTypes[M]) => void): void {
    this.listeners.push((note) => {
      if (note.method === method) handler(note.params as NotificationTypes[M]);
    });
  }

  /** Call no listener again: a test's teardown stops reacting before it stops the daemon. */
  mute(): void {
    this.listeners = [];
  }

  async stop(): Promise<void> {
    this.mute();
    try {
      await this.connection.sendRequest(ShutdownRequest.type);
      await this.connection.sendNotification(ExitNotification.type);
    } catch {
      // already gone
    }
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    if (this.process.exitCode === null) await exited;
    clearTimeout(timer);
    this.connection.dispose();
  }

  private record(note: Received): void {
    this.received.push(note);
    this.listeners.forEach((listener) => listener(note));
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }
}
