// socket.worker.ts — the page's WebSocket, held in a worker: the frames are
// received and parsed here, off the page's main thread, and handed over in
// batches at most every BATCH_MS with the streamed tokens of a task merged
// (coalesce.ts).  The page then handles tens of messages a second instead of
// a thousand, and keeps drawing while a fast answer streams.  Protocol with
// workersocket.ts: in {op: open|send|close}, out {ev: open|batch|close|error}.
/// <reference lib="webworker" />
import { Coalescer } from './coalesce';
import type { ServerMessage } from './live';

const BATCH_MS = 16;
const scope = self as unknown as DedicatedWorkerGlobalScope;
let ws: WebSocket | null = null;
const pending = new Coalescer();
let timer: ReturnType<typeof setTimeout> | null = null;

function flush() {
  timer = null;
  if (pending.size) scope.postMessage({ ev: 'batch', messages: pending.take() });
}

scope.onmessage = (e: MessageEvent<{ op: string; url?: string; data?: string; code?: number }>) => {
  const m = e.data;
  if (m.op === 'open' && m.url && !ws) {
    const s = new WebSocket(m.url);
    ws = s;
    s.onopen = () => scope.postMessage({ ev: 'open' });
    s.onerror = () => scope.postMessage({ ev: 'error' });
    s.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      pending.push(msg);
      timer ??= setTimeout(flush, BATCH_MS);
    };
    s.onclose = (ev) => {
      // What arrived before the close is delivered before it.
      if (timer) clearTimeout(timer);
      flush();
      scope.postMessage({ ev: 'close', code: ev.code, reason: ev.reason });
      scope.close();
    };
  } else if (m.op === 'send' && ws?.readyState === WebSocket.OPEN && m.data !== undefined) {
    ws.send(m.data);
  } else if (m.op === 'close') {
    ws?.close(m.code);
  }
};
