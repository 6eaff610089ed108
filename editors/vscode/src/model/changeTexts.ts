/**
 * The texts of proposed changes (devfactory/changes/diff), fetched once per proposal. A run
 * proposes a file again under the same change id (its next step, a rewind, another iteration):
 * the text read before is then out of date, and a diff editor still showing it would let its
 * title's Approve take a proposal the user never saw. The diff editors and the inline hunks
 * read through this one cache, which drops a text when the RunStore learns of a newer proposal.
 */
import { Emitter, type Event as Listenable } from 'vscode-languageserver-protocol';
import type { DaemonApi } from './daemonApi';
import type { RunStore } from './runStore';
import { type ChangeDiff, Requests } from '../generated/protocol';

interface Entry {
  /** The proposal the text is of: the store's updatedAt when asked, the daemon's once read. */
  updatedAt: string | undefined;
  diff: Promise<ChangeDiff>;
}

export class ChangeTexts {
  private readonly cache = new Map<number, Entry>();
  private readonly outdated = new Emitter<number>();
  /** Fires with a change whose text was read before it was proposed again: show it anew. */
  readonly onDidOutdate: Listenable<number> = this.outdated.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly api: DaemonApi,
    private readonly store: RunStore,
  ) {
    this.subscription = store.onDidChange(() => this.sweep());
  }

  /** The diff of a change as the store last heard of it (read from the daemon once per proposal). */
  get(changeId: number): Promise<ChangeDiff> {
    const known = this.store.change(changeId)?.updatedAt;
    const cached = this.cache.get(changeId);
    if (cached && (known === undefined || cached.updatedAt === known)) return cached.diff;
    const entry: Entry = { updatedAt: known, diff: this.api.request(Requests.CHANGES_DIFF, { changeId }) };
    this.cache.set(changeId, entry);
    entry.diff.then(
      (diff) => (entry.updatedAt = diff.change.updatedAt),
      () => this.cache.get(changeId) === entry && this.cache.delete(changeId),
    );
    return entry.diff;
  }

  private sweep(): void {
    for (const [changeId, entry] of this.cache) {
      const known = this.store.change(changeId)?.updatedAt;
      if (known === undefined || entry.updatedAt === undefined || known === entry.updatedAt) continue;
      this.cache.delete(changeId);
      this.outdated.fire(changeId);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.outdated.dispose();
  }
}
