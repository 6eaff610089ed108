/**
 * How the daemon is started and what the user is told when it cannot be: a missing executable
 * or a daemon speaking another protocol version gets a message that names the fix.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '../generated/protocol';

export interface ServerSettings {
  /** The `devfactory` executable (a name on PATH or an absolute path). */
  path: string;
  /** When set, run `<pythonPath> -m devfactory.server` instead of `path`. */
  pythonPath: string;
}

export interface DaemonCommand {
  command: string;
  args: string[];
}

/** `~/...` in a path setting means the home folder, as in a shell. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

export function daemonCommand(settings: ServerSettings): DaemonCommand {
  const python = expandHome(settings.pythonPath.trim());
  if (python) return { command: python, args: ['-P', '-m', 'devfactory.server', 'serve', '--stdio'] };
  return { command: expandHome(settings.path.trim()) || 'devfactory', args: ['serve', '--stdio'] };
}

export type DaemonProblem = 'missing' | 'too-old' | 'too-new' | 'crashed';

/** A start failure the user can fix: `message` says what happened, `fix` what to do. */
export class DaemonStartError extends Error {
  constructor(
    readonly problem: DaemonProblem,
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'DaemonStartError';
  }

  /** One line for a notification. */
  get userMessage(): string {
    return `${this.message} ${this.fix}`;
  }
}

const INSTALL_FIX =
  'Install DevFactory (run `uv sync` in its checkout) and set "devfactory.server.path" to ' +
  '<checkout>/.venv/bin/devfactory, or put `devfactory` on PATH.';

export function missingDaemon(command: DaemonCommand, cause: NodeJS.ErrnoException): DaemonStartError {
  const why = cause.code === 'EACCES' ? 'is not executable' : 'was not found';
  return new DaemonStartError('missing', `DevFactory: the daemon "${command.command}" ${why}.`, INSTALL_FIX);
}

export function daemonExited(command: DaemonCommand, detail: string): DaemonStartError {
  return new DaemonStartError(
    'crashed',
    `DevFactory: the daemon "${command.command}" exited while starting (${detail}).`,
    'Run `devfactory health` in a terminal to see why, or open "DevFactory: Show Daemon Log".',
  );
}

/**
 * Compare the protocol version the daemon reports (devfactory/health) with the one this
 * extension was generated from. A daemon without devfactory/health predates protocol 1.
 */
export function checkProtocol(daemonVersion: string | undefined, daemonRelease: string): DaemonStartError | undefined {
  if (daemonVersion === PROTOCOL_VERSION) return undefined;
  const theirs = Number(daemonVersion ?? 0);
  const ours = Number(PROTOCOL_VERSION);
  if (theirs > ours) {
    return new DaemonStartError(
      'too-new',
      `DevFactory: the daemon (${daemonRelease}) speaks protocol ${daemonVersion}; this extension speaks ${PROTOCOL_VERSION}.`,
      'Install the extension .vsix built from the same DevFactory checkout (`editors/vscode`, `npm run package`).',
    );
  }
  return new DaemonStartError(
    'too-old',
    `DevFactory: the daemon (${daemonRelease}) is too old: it speaks protocol ${daemonVersion ?? 'none'}, this extension needs ${PROTOCOL_VERSION}.`,
    'Update it: `git pull && uv sync` in the DevFactory checkout, then run "DevFactory: Restart Daemon".',
  );
}
