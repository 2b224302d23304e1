// coalesce.ts — the WebSocket's messages gathered between two deliveries to
// the page, with the streamed tokens of one task merged into one event.  A
// fast model sends a thousand token frames a second; handled one by one on
// the page's main thread they leave no time to draw.  Pure: the tests feed it
// messages.
import type { ServerMessage } from './live';

/** A token event that may be merged: streamed text, never stored (no id), so
 * never replayed and never deduplicated by id. */
function mergeable(m: ServerMessage): boolean {
  const e = m.type === 'event' ? m.event : undefined;
  return !!e && e.kind === 'token' && typeof e.id !== 'number' && typeof e.data?.text === 'string';
}

export class Coalescer {
  private batch: ServerMessage[] = [];
  /** Index in batch of the last token event of each "root task" pair still
   * open for appending: an event of that task in between closes it, so the
   * order of a task's events is kept. */
  private open = new Map<string, number>();

  get size() {
    return this.batch.length;
  }

  push(m: ServerMessage) {
    const e = m.event;
    const key = e ? `${e.root} ${e.task_id}` : '';
    if (e && mergeable(m)) {
      const at = this.open.get(key);
      const prev = at === undefined ? undefined : this.batch[at];
      if (prev?.event) {
        const d = prev.event.data as { text: string };
        // A new object: the message pushed first is not changed under its sender.
        this.batch[at!] = { ...prev, event: { ...prev.event, data: { ...prev.event.data, text: d.text + (e.data!.text as string) } } };
        return;
      }
      this.open.set(key, this.batch.length);
    } else if (e) {
      this.open.delete(key);
    } else {
      // Not an event (an answer to a request, an error): keep everything in order around it.
      this.open.clear();
    }
    this.batch.push(m);
  }

  /** The messages since the last take, in order. */
  take(): ServerMessage[] {
    const out = this.batch;
    this.batch = [];
    this.open.clear();
    return out;
  }
}
