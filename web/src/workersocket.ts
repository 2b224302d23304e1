// workersocket.ts — a SocketLike (live.ts) whose WebSocket lives in a worker
// (socket.worker.ts): one per connection, ended with it.  Its onmessage gets
// batches of parsed messages ({data: ServerMessage[]}) instead of one frame's
// text at a time.
import type { SocketLike } from './live';

export function workerSocket(url: string): SocketLike {
  const w = new Worker(new URL('./socket.worker.ts', import.meta.url), { type: 'module' });
  const s: SocketLike = {
    readyState: 0,
    send: (data: string) => w.postMessage({ op: 'send', data }),
    close: (code?: number) => w.postMessage({ op: 'close', code }),
    onopen: null,
    onclose: null,
    onmessage: null,
    onerror: null,
  };
  w.onmessage = (e: MessageEvent<{ ev: string; code?: number; reason?: string; messages?: unknown[] }>) => {
    const m = e.data;
    if (m.ev === 'open') {
      s.readyState = 1;
      s.onopen?.(m);
    } else if (m.ev === 'batch') {
      s.onmessage?.({ data: m.messages });
    } else if (m.ev === 'error') {
      s.onerror?.(m);
    } else if (m.ev === 'close') {
      s.readyState = 3;
      w.terminate();
      s.onclose?.({ code: m.code ?? 1006, reason: m.reason });
    }
  };
  // A worker that fails to start (blocked, or a broken build) is a closed connection.
  w.onerror = () => {
    if (s.readyState === 3) return;
    s.readyState = 3;
    w.terminate();
    s.onclose?.({ code: 1006 });
  };
  w.postMessage({ op: 'open', url });
  return s;
}
