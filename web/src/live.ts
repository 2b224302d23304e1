// live.ts — the WebSocket /ws: chat, task and conversation subscriptions,
// approval answers.  When the socket drops it reconnects with exponential
// backoff (with jitter) and subscribes again; the server then replays each
// task's stored events, and events already seen (by id, per task tree) are
// dropped here, so nothing is lost or shown twice.  Streamed tokens are not
// stored: those sent while the socket was down are made up by the task's
// final answer (events.ts, shownText).
import type { TaskEvent } from './types';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ServerMessage {
  type: string;
  ref?: string | number;
  event?: TaskEvent;
  replay?: boolean;
  task_id?: string;
  conversation_id?: string;
  error?: string;
  field?: string;
  user?: { id: string; name: string };
}

type Listener = (m: ServerMessage) => void;

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface LiveOptions {
  url: string;                         // ws://host/ws
  token: () => Promise<string>;
  open?: (url: string) => SocketLike;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Delay before reconnect attempt n (0-based): exponential, capped, jittered. */
export function backoff(n: number, base = 250, max = 15000, rand = Math.random): number {
  const d = Math.min(max, base * 2 ** Math.min(n, 16));
  return Math.round(d / 2 + (rand() * d) / 2);
}

export class Live {
  private ws: SocketLike | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: LiveState) => void>();
  private subs = new Set<string>();        // "task:ID" or "conversation:ID"
  private seen = new Map<string, Set<number>>(); // root → stored event ids seen
  private pending = new Map<string, { resolve: (m: ServerMessage) => void; reject: (e: Error) => void }>();
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  private stopped = false;
  state: LiveState = 'closed';

  constructor(private o: LiveOptions) {}

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  start() {
    this.stopped = false;
    void this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
    this.setState('closed');
  }

  /** Drops the connection as a network failure would (tests, "reconnect" button). */
  drop() {
    this.ws?.close(4000);
  }

  private setState(s: LiveState) {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private async connect() {
    this.setState(this.attempts ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.o.token();
    } catch {
      this.setState('closed');
      return;
    }
    if (this.stopped) return;
    const url = `${this.o.url}?access_token=${encodeURIComponent(token)}`;
    const ws = (this.o.open ?? ((u) => new WebSocket(u) as unknown as SocketLike))(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.setState('open');
      for (const key of this.subs) this.sendRaw(subscribeMessage('subscribe', key));
    };
    ws.onmessage = (ev) => {
      // A batch parsed in a worker (workersocket.ts), or one frame's text.
      if (Array.isArray(ev.data)) {
        for (const m of ev.data as ServerMessage[]) this.handle(m);
        return;
      }
      if (typeof ev.data !== 'string') return;
      let m: ServerMessage;
      try {
        m = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      this.handle(m);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const p of this.pending.values()) p.reject(new Error('the connection closed'));
      this.pending.clear();
      // 1008: the token or session was revoked: no point in trying again
      // with it.  (The server also closes with 1008 a client that fell too
      // far behind: that one comes back and is replayed what it missed.)
      if (ev.code !== 1000 && ev.code !== 1001) console.warn(`errand: the WebSocket closed (${ev.code} ${ev.reason ?? ''})`);
      if (this.stopped || (ev.code === 1008 && !/^too slow/.test(ev.reason ?? ''))) {
        this.setState('closed');
        return;
      }
      this.setState('reconnecting');
      const delay = backoff(this.attempts++, this.o.baseDelayMs, this.o.maxDelayMs);
      this.timer = setTimeout(() => void this.connect(), delay);
    };
  }

  /** true when the event is new (and records it); false for one already
   * seen.  A set, not the highest id: in networked mode two workers' events
   * of one task tree may arrive out of id order. */
  accept(e: TaskEvent): boolean {
    if (typeof e.id !== 'number') return true;   // streamed tokens: never replayed
    let ids = this.seen.get(e.root);
    if (!ids) this.seen.set(e.root, (ids = new Set()));
    if (ids.has(e.id)) return false;
    ids.add(e.id);
    return true;
  }

  private handle(m: ServerMessage) {
    if (m.type === 'event' && m.event && !this.accept(m.event)) return;
    if (m.type === 'accepted' && m.task_id) this.subs.add(`task:${m.task_id}`);
    const ref = m.ref === undefined ? undefined : String(m.ref);
    if (ref && this.pending.has(ref)) {
      const p = this.pending.get(ref)!;
      this.pending.delete(ref);
      if (m.type === 'error') p.reject(new Error(m.error ?? 'error'));
      else p.resolve(m);
    }
    for (const fn of this.listeners) fn(m);
  }

  private sendRaw(msg: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Sends and waits for the answer that refers to it. */
  request(msg: Record<string, unknown>): Promise<ServerMessage> {
    const id = `r${++this.seq}`;
    return new Promise((resolve, reject) => {
      if (!this.sendRaw({ ...msg, id })) {
        reject(new Error('not connected'));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  subscribe(kind: 'task' | 'conversation', id: string) {
    const key = `${kind}:${id}`;
    if (this.subs.has(key)) return;
    this.subs.add(key);
    this.sendRaw(subscribeMessage('subscribe', key));
  }

  /** Whether the connection follows this task or conversation (by anyone's request). */
  has(kind: 'task' | 'conversation', id: string): boolean {
    return this.subs.has(`${kind}:${id}`);
  }

  unsubscribe(kind: 'task' | 'conversation', id: string) {
    const key = `${kind}:${id}`;
    if (!this.subs.delete(key)) return;
    this.sendRaw(subscribeMessage('unsubscribe', key));
  }

  chat(message: string, conversationId?: string, agent?: string) {
    const msg: Record<string, unknown> = { type: 'chat', message };
    if (conversationId) msg.conversation_id = conversationId;
    if (agent) msg.agent = agent;
    return this.request(msg);
  }

  approve(taskId: string, callId: string, decision: 'allow' | 'deny' | 'always') {
    return this.request({ type: 'approval', task_id: taskId, call_id: callId, decision });
  }
}

function subscribeMessage(type: string, key: string): Record<string, unknown> {
  const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  return { type, [kind === 'task' ? 'task_id' : 'conversation_id']: id };
}
