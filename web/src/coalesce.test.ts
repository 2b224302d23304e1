import { Coalescer } from './coalesce';
import type { ServerMessage } from './live';

const tok = (task: string, text: string, root = 'r1'): ServerMessage => ({
  type: 'event', event: { task_id: task, root, kind: 'token', data: { text, agent: 'code' } },
});
const ev = (task: string, kind: string, id: number, root = 'r1'): ServerMessage => ({
  type: 'event', event: { id, task_id: task, root, kind, data: {} },
});

describe('Coalescer', () => {
  it('merges a task\'s consecutive tokens into one event, in order', () => {
    const c = new Coalescer();
    const first = tok('r1', 'a');
    c.push(first);
    c.push(tok('r1', 'b'));
    c.push(tok('r1', 'c'));
    const out = c.take();
    expect(out).toHaveLength(1);
    expect(out[0]!.event!.data.text).toBe('abc');
    expect(out[0]!.event!.data.agent).toBe('code');
    expect(first.event!.data.text).toBe('a'); // the pushed message is not changed
    expect(c.take()).toEqual([]);
  });

  it('keeps tasks apart and never merges across another event of the task', () => {
    const c = new Coalescer();
    c.push(tok('r1', 'a'));
    c.push(tok('s1', 'x'));
    c.push(tok('r1', 'b'));
    c.push(ev('r1', 'tool_call', 7));
    c.push(tok('r1', 'c'));
    c.push(tok('s1', 'y'));
    const out = c.take().map((m) => `${m.event!.task_id}:${m.event!.kind}:${m.event!.data.text ?? m.event!.id}`);
    expect(out).toEqual(['r1:token:ab', 's1:token:xy', 'r1:tool_call:7', 'r1:token:c']);
  });

  it('never merges stored events (they carry ids and are deduplicated) and keeps replies in order', () => {
    const c = new Coalescer();
    const stored: ServerMessage = { type: 'event', event: { id: 3, task_id: 'r1', root: 'r1', kind: 'token', data: { text: 'a' } } };
    c.push(stored);
    c.push(tok('r1', 'b'));
    c.push({ type: 'accepted', ref: 'r2', task_id: 't9' });
    c.push(tok('r1', 'c'));
    const out = c.take();
    expect(out.map((m) => m.type)).toEqual(['event', 'event', 'accepted', 'event']);
    expect(out[1]!.event!.data.text).toBe('b');
    expect(out[3]!.event!.data.text).toBe('c');
  });
});
