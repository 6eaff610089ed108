/**
 * One run's event history as the console shows it: devfactory/events replayed from the last id
 * seen, merged with devfactory/event notifications that arrive meanwhile. Events are keyed by
 * id, so replay-then-live (and a replay after the daemon restarts) yields every event once, in
 * id order, with no gap. Model text streamed with devfactory/stream is kept until the whole
 * message arrives as an event.
 */
import { Emitter, type Event as Listenable } from 'vscode-languageserver-protocol';
import type { DaemonApi } from './daemonApi';
import { type Event, EventType, Requests } from '../generated/protocol';

/** Events that carry the whole text of what was streamed before them. */
const STREAM_ENDS = new Set<EventType>([EventType.AI_MESSAGE, EventType.AI_PLAN_CREATED, EventType.FINAL_SUMMARY]);

export class EventLog {
  private readonly ids = new Set<number>();
  private readonly list: Event[] = [];
  private streamText = '';
  private readonly changed = new Emitter<void>();
  readonly onDidChange: Listenable<void> = this.changed.event;

  constructor(readonly runId: number) {}

  get events(): readonly Event[] {
    return this.list;
  }

  /** Model text streamed since the last message event. */
  get streaming(): string {
    return this.streamText;
  }

  /** Highest event id held: where the next replay starts. */
  get lastId(): number {
    return this.list.length ? this.list[this.list.length - 1].id : 0;
  }

  /** Add a live or replayed event; false when it was already there (or is another run's). */
  add(event: Event): boolean {
    if (!this.insert(event)) return false;
    this.changed.fire();
    return true;
  }

  addStream(delta: string): void {
    this.streamText += delta;
    this.changed.fire();
  }

  /** Fetch every persisted event after the last one held, page by page. */
  async replay(api: DaemonApi): Promise<number> {
    let since = this.lastId;
    let added = 0;
    for (;;) {
      const page = await api.request(Requests.EVENTS, { runId: this.runId, since, limit: 1000 });
      for (const event of page.events) if (this.insert(event)) added += 1;
      since = page.lastId;
      if (!page.hasMore) break;
    }
    if (added) this.changed.fire();
    return added;
  }

  private insert(event: Event): boolean {
    if (event.runId !== this.runId || this.ids.has(event.id)) return false;
    this.ids.add(event.id);
    let at = this.list.length;
    while (at > 0 && this.list[at - 1].id > event.id) at -= 1;
    this.list.splice(at, 0, event);
    if (STREAM_ENDS.has(event.type) && at === this.list.length - 1) this.streamText = '';
    return true;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
