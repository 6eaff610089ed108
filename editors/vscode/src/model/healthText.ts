/**
 * The text of Show Health: what `devfactory/health` reports, with the database engine the
 * daemon names (`databaseEngine`) rather than an assumed SQLite.
 */
import type { Health, SandboxInfo } from '../generated/protocol';

/** Each engine's name and its vector extension's, and what a missing extension means. */
const ENGINES: Record<string, { name: string; vectors: string; noVectors: string }> = {
  sqlite: { name: 'SQLite', vectors: 'sqlite-vec', noVectors: 'missing' },
  postgresql: { name: 'PostgreSQL', vectors: 'pgvector', noVectors: 'none (distances in SQL)' },
};

/** `SQLite 3.45.1, sqlite-vec v0.1.6` or `PostgreSQL 15.14, pgvector none (distances in SQL)`. */
export function engineText(health: Health): string {
  const engine = ENGINES[health.databaseEngine];
  if (!engine) return `${health.databaseEngine} ${health.sqliteVersion}`;
  return `${engine.name} ${health.sqliteVersion}, ${engine.vectors} ${health.sqliteVecVersion ?? engine.noVectors}`;
}

/** `bundled bwrap 0.11.0 (/path/to/bwrap)`, or `off (why)`. */
export function sandboxText(sandbox: SandboxInfo): string {
  if (!sandbox.active) return `off (${sandbox.reason})`;
  const which = [sandbox.source, 'bwrap', sandbox.version].filter(Boolean).join(' ');
  return `${which} (${sandbox.tool})`;
}

/** The modal's detail: versions, database, sandbox, provider, counts and the log. */
export function healthDetail(health: Health): string {
  const counts = Object.entries(health.counts).map(([k, v]) => `${k}: ${v}`).join(', ');
  return [
    `daemon ${health.version}, protocol ${health.protocolVersion}, Python ${health.pythonVersion}`,
    engineText(health),
    `database ${health.databaseOk ? 'ok' : `FAILED (${health.databaseProblem})`}: ${health.databasePath}`,
    `sandbox: ${sandboxText(health.sandbox)}`,
    health.provider && `provider ${health.provider.name}: ${health.provider.ready ? 'ready' : `cannot run: ${health.provider.problem}`}`,
    counts && `counts: ${counts}`,
    `log: ${health.logPath}`,
  ].filter(Boolean).join('\n');
}
