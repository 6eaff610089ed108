/**
 * The words of Trust Workspace Settings: the warning that settings wait for trust, and the
 * read-only document showing exactly what would apply, per file (as `devfactory trust` prints it).
 */
import type { WorkspaceTrust } from '../generated/protocol';

/** The warning shown once the daemon runs, or undefined when nothing waits for trust. */
export function trustWarning(review: WorkspaceTrust): string | undefined {
  const waiting = review.sources.filter((source) => !source.trusted).map((source) => source.source);
  if (waiting.length === 0) return undefined;
  return (
    `DevFactory: this workspace's ${waiting.join(' and ')} ${waiting.length === 1 ? 'sets' : 'set'} what runs as you or where your keys go; ` +
    'they apply only once you trust them. Until then they are ignored.'
  );
}

/** The review document: each file's path, then what of it would apply. */
export function trustReviewText(review: WorkspaceTrust): string {
  const header = [
    `# What ${review.root}'s own files set that waits for your trust.`,
    '# These settings run programs as you or choose where your keys go; they apply only once you',
    '# trust these exact values (a change to them needs a new trust).',
  ];
  const sources = review.sources.flatMap((source) => ['', `# ${source.path}${source.trusted ? ' (trusted)' : ''}`, source.text]);
  return [...header, ...sources, ''].join('\n');
}
