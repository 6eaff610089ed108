/**
 * DaemonClient: the one connection to `devfactory serve --stdio`, a LanguageClient underneath.
 * It spawns the daemon for the workspace, checks that it speaks this extension's protocol,
 * registers the devfactory/* notification handlers from a table, restarts a crashed daemon with
 * backoff, and exposes typed requests. Standard LSP (diagnostics, code actions, executeCommand,
 * workspace/applyEdit) is handled by vscode-languageclient as it is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  type FeatureState,
  type MessageTransports,
  type Middleware,
  State,
  type StaticFeature,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageclient/node';
import { showErrorMessage } from './messages';
import { DaemonProgress } from './progress';
import {
  Capabilities,
  type Health,
  type NotificationMethod,
  type NotificationTypes,
  Requests,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
} from './generated/protocol';
import { RestartBackoff } from './model/backoff';
import type { DaemonApi } from './model/daemonApi';
import { checkProtocol, daemonCommand, type DaemonCommand, daemonExited, DaemonStartError, missingDaemon } from './model/daemonCommand';
import { LinkFreeReader } from './model/linkFreeReader';
import { daemonInitOptions } from './model/settings';
import { explicitSetting, serverSettings } from './settings';

/** This editor warns of settings awaiting trust itself, with Review and trust (commands/trust.ts). */
const trustReviewFeature: StaticFeature = {
  getState: (): FeatureState => ({ kind: 'static' }),
  fillClientCapabilities: (capabilities) => {
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), [Capabilities.TRUST_REVIEW]: true };
  },
  initialize: () => undefined,
  clear: () => undefined,
};

export type DaemonState = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed';

export type NotificationHandlers = { [M in NotificationMethod]?: (params: NotificationTypes[M]) => void };

export class DaemonClient implements DaemonApi, vscode.Disposable {
  private client: LanguageClient | undefined;
  /** The protocol check of the current connection: start() resolves after it. */
  private checked: Promise<void> = Promise.resolve();
  /** The daemon process of the current connection. */
  private child: ChildProcess | undefined;
  private readonly backoff = new RestartBackoff();
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  /** Fires on every state change; `running` after each (re)start once the protocol checks out. */
  readonly onDidChangeState = this.stateEmitter.event;
  readonly output: vscode.LogOutputChannel;
  readonly progress = new DaemonProgress();
  private currentState: DaemonState = 'stopped';
  /** The daemon's health as of the last (re)start. */
  health: Health | undefined;
  /** Why the daemon is not running, when it is `failed`. */
  problem: DaemonStartError | undefined;
  /** Why the last spawn failed (the client's own restarts report it nowhere else). */
  private spawnProblem: DaemonStartError | undefined;

  constructor(
    private readonly root: vscode.Uri,
    private readonly handlers: NotificationHandlers,
    private readonly middleware: Middleware = {},
  ) {
    this.output = vscode.window.createOutputChannel('DevFactory', { log: true });
  }

  get state(): DaemonState {
    return this.currentState;
  }

  /** Process id of the running daemon (tests kill it to check the restart). */
  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const command = daemonCommand(serverSettings());
    this.setState('starting');
    this.problem = undefined;
    const client = new LanguageClient('devfactory', 'DevFactory', () => this.spawn(command), this.options());
    this.client = client;
    for (const [method, handler] of Object.entries(this.handlers)) {
      client.onNotification(method, handler as (params: unknown) => void);
    }
    client.registerFeature(this.progress.feature(client));
    client.registerFeature(trustReviewFeature);
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Running) this.checked = this.checkCompatible(client, command);
      // After a crash the client starts the daemon again by itself. When the executable is
      // gone by then nobody awaits that start, and the status bar said "restarting" for good.
      // (A daemon that dies while starting closes the connection: the backoff restarts it.)
      if (newState === State.StartFailed && this.client === client && this.currentState === 'restarting' && this.spawnProblem) {
        this.client = undefined;
        this.fail(this.spawnProblem);
      }
    });
    try {
      await client.start();
      await this.checked;
    } catch (error) {
      this.client = undefined;
      this.fail(error instanceof DaemonStartError ? error : daemonExited(command, String((error as Error)?.message ?? error)));
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.progress.clear();
    if (client?.needsStop()) await client.stop(5_000).catch(() => undefined);
    if (this.currentState !== 'failed') this.setState('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    if (!this.client || this.currentState !== 'running') {
      return Promise.reject(new Error(this.problem?.userMessage ?? `DevFactory: the daemon is ${this.currentState}; try again in a moment.`));
    }
    return this.client.sendRequest(method, params);
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.progress.dispose();
    this.output.dispose();
  }

  private options(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: 'file' }],
      workspaceFolder: vscode.workspace.getWorkspaceFolder(this.root),
      diagnosticCollectionName: 'devfactory',
      outputChannel: this.output,
      initializationOptions: () => daemonInitOptions(explicitSetting),
      middleware: this.middleware,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: async () => {
          if (!this.client) return { action: CloseAction.DoNotRestart, handled: true };
          const delay = this.backoff.crashed();
          this.setState('restarting');
          this.output.warn(`daemon exited unexpectedly; restarting in ${delay} ms (attempt ${this.backoff.consecutiveFailures})`);
          await new Promise((resolve) => setTimeout(resolve, delay));
          return { action: CloseAction.Restart, handled: true };
        },
      },
    };
  }

  /**
   * Spawn the daemon; a missing executable becomes a DaemonStartError naming the fix. Its
   * messages are read through LinkFreeReader: the client shows window/showMessage itself.
   */
  private spawn(command: DaemonCommand): Promise<MessageTransports> {
    this.output.info(`starting ${command.command} ${command.args.join(' ')} in ${this.root.fsPath}`);
    return new Promise((resolve, reject) => {
      const child = spawn(command.command, command.args, { cwd: this.root.fsPath, stdio: 'pipe' });
      this.spawnProblem = undefined;
      child.once('spawn', () => {
        this.child = child;
        resolve({ reader: new LinkFreeReader(new StreamMessageReader(child.stdout)), writer: new StreamMessageWriter(child.stdin) });
      });
      child.once('error', (error: NodeJS.ErrnoException) => reject((this.spawnProblem = missingDaemon(command, error))));
      child.stderr?.on('data', (data: Buffer) => this.output.appendLine(data.toString().trimEnd()));
    });
  }

  private async checkCompatible(client: LanguageClient, command: DaemonCommand): Promise<void> {
    const release = client.initializeResult?.serverInfo?.version ?? 'unknown version';
    let health: Health | undefined;
    try {
      health = await client.sendRequest(Requests.HEALTH, {});
    } catch (error) {
      this.output.error(`devfactory/health failed: ${String(error)}`);
    }
    const problem = checkProtocol(health?.protocolVersion, `${command.command} ${release}`);
    if (problem) {
      this.client = undefined;
      await client.stop().catch(() => undefined);
      this.fail(problem);
      return;
    }
    this.health = health;
    this.backoff.started();
    this.setState('running');
  }

  private fail(problem: DaemonStartError): void {
    this.problem = problem;
    this.output.error(problem.userMessage);
    this.setState('failed');
    void showErrorMessage(problem.userMessage, 'Open Settings', 'Show Log').then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'devfactory.server');
      if (choice === 'Show Log') this.output.show();
    });
  }

  private setState(state: DaemonState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }
}
