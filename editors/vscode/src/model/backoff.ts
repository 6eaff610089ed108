/**
 * When to restart a crashed daemon: exponential backoff (1 s, 2 s, 4 s ... capped), reset once
 * the daemon has stayed up long enough to count as healthy, so a crash loop cannot spin the CPU
 * while a crash after hours of work restarts at once.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A daemon that ran this long before crashing restarts with the initial delay again. */
  healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, healthyAfterMs: 60_000 };

export class RestartBackoff {
  private failures = 0;
  private startedAt: number;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Record that the daemon (re)started. */
  started(): void {
    this.startedAt = this.now();
  }

  /** Record a crash; returns how long to wait before the next start. */
  crashed(): number {
    if (this.now() - this.startedAt >= this.options.healthyAfterMs) this.failures = 0;
    const delay = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.failures);
    this.failures += 1;
    return delay;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
