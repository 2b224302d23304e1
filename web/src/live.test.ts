import { backoff, Live, type SocketLike } from './live';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(public url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  recv(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const live = new Live({
    url: 'ws://h/ws',
    token: async () => 'tok en',
    open: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    baseDelayMs: 10,
    maxDelayMs: 40,
  });
  return { live, sockets };
}
const flush = () => vi.advanceTimersByTimeAsync(0);

describe('backoff', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    expect(backoff(0, 100, 1000, () => 0)).toBe(50);
    expect(backoff(3, 100, 1000, () => 1)).toBe(800);
    expect(backoff(10, 100, 1000, () => 1)).toBe(1000);
  });
});

describe('Live', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }));
  afterEach(() => vi.useRealTimers());

  it('sends the token as a query parameter and resolves requests by ref', async () => {
    const { live, sockets } = setup();
    live.start();
    await flush();
    expect(sockets[0]!.url).toBe('ws://h/ws?access_token=tok%20en');
    sockets[0]!.open();
    const p = live.chat('hi', undefined, 'code');
    const sent = sockets[0]!.sent[0]!;
    expect(sent).toMatchObject({ type: 'chat', message: 'hi', agent: 'code' });
    sockets[0]!.recv({ type: 'accepted', ref: sent.id, task_id: 'T1', conversation_id: 'C1' });
    await expect(p).resolves.toMatchObject({ task_id: 'T1' });
  });

  it('reconnects after a drop, subscribes again and drops replayed events', async () => {
    const { live, sockets } = setup();
    const events: number[] = [];
    live.on((m) => m.type === 'event' && events.push(m.event!.id ?? -1));
    const states: string[] = [];
    live.onState((s) => states.push(s));
    live.start();
    await flush();
    sockets[0]!.open();
    live.subscribe('task', 'R');
    expect(sockets[0]!.sent).toEqual([{ type: 'subscribe', task_id: 'R' }]);
    sockets[0]!.recv({ type: 'event', event: { id: 1, task_id: 'R', root: 'R', kind: 'start', data: {} } });
    sockets[0]!.recv({ type: 'event', event: { id: 2, task_id: 'R', root: 'R', kind: 'llm', data: {} } });
    sockets[0]!.close(1006);
    expect(live.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(50);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(sockets[1]!.sent).toEqual([{ type: 'subscribe', task_id: 'R' }]);
    // The server replays the stored events: only the new one gets through.
    for (const id of [1, 2, 3])
      sockets[1]!.recv({ type: 'event', replay: true, event: { id, task_id: 'R', root: 'R', kind: 'x', data: {} } });
    sockets[1]!.recv({ type: 'event', event: { task_id: 'R', root: 'R', kind: 'token', data: { text: 'a' } } });
    // Out of id order (two workers), and a repeat of it.
    sockets[1]!.recv({ type: 'event', event: { id: 5, task_id: 'S', root: 'R', kind: 'x', data: {} } });
    sockets[1]!.recv({ type: 'event', event: { id: 4, task_id: 'S2', root: 'R', kind: 'x', data: {} } });
    sockets[1]!.recv({ type: 'event', event: { id: 4, task_id: 'S2', root: 'R', kind: 'x', data: {} } });
    expect(events).toEqual([1, 2, 3, -1, 5, 4]);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'reconnecting', 'open']);
  });

  it('does not retry a connection the server closed for a revoked token (1008)', async () => {
    const { live, sockets } = setup();
    live.start();
    await flush();
    sockets[0]!.open();
    sockets[0]!.close(1008);
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets).toHaveLength(1);
    expect(live.state).toBe('closed');
  });

  it('comes back after the server cut it off for falling behind (1008 too slow), and takes batches', async () => {
    const { live, sockets } = setup();
    const seen: string[] = [];
    live.on((m) => m.type === 'event' && seen.push(String(m.event!.data.text)));
    live.start();
    await flush();
    sockets[0]!.open();
    sockets[0]!.onclose?.({ code: 1008, reason: 'too slow: events piled up' });
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(live.state).toBe('open');
    // A worker's batch: already parsed messages, handled in order.
    sockets[1]!.onmessage?.({ data: [
      { type: 'event', event: { task_id: 'T', root: 'T', kind: 'token', data: { text: 'ab' } } },
      { type: 'event', event: { task_id: 'T', root: 'T', kind: 'token', data: { text: 'c' } } },
    ] });
    expect(seen).toEqual(['ab', 'c']);
    live.stop();
  });

  it('rejects pending requests when the connection drops', async () => {
    const { live, sockets } = setup();
    live.start();
    await flush();
    sockets[0]!.open();
    const p = live.approve('T', 'c1', 'allow');
    sockets[0]!.close(1006);
    await expect(p).rejects.toThrow(/closed/);
    live.stop();
  });
});
