// hooks.ts — polling a REST resource while the page is visible, following
// tasks over the WebSocket, and the hash route.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Live, LiveState } from './live';

export function usePoll<T>(fn: () => Promise<T>, ms: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // true when it worked; a failure is retried within 2 s, not a whole period later.
  const load = useCallback(async () => {
    try {
      setData(await fnRef.current());
      setError(null);
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return false;
    }
  }, []);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      const ok = document.hidden || (await load());
      if (!stopped) timer = setTimeout(tick, ok ? ms : Math.min(ms, 2000));
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, load, ...deps]);
  return { data, error, reload: () => void load() };
}

export function useLiveState(live: Live | undefined): LiveState {
  const [state, setState] = useState<LiveState>(() => live?.state ?? 'closed');
  useEffect(() => {
    if (!live) return;
    setState(live.state);
    return live.onState(setState);
  }, [live]);
  return state;
}

/** Follows the given tasks over the WebSocket and calls changed() (at most
 * every `settleMs`) when any of their trees has a new stored event: a state
 * change, a step, an answer.  Streamed tokens are ignored; they change no
 * state.  Subscriptions this hook added are dropped when a task leaves the
 * list; ones the chat made are left alone. */
export function useTaskPush(live: Live | undefined, ids: string[], changed: () => void, settleMs = 150) {
  const changedRef = useRef(changed);
  changedRef.current = changed;
  const mine = useRef(new Set<string>());
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    if (!live) return;
    const want = new Set(key ? key.split(',') : []);
    for (const id of want) {
      if (!live.has('task', id)) {
        live.subscribe('task', id);
        mine.current.add(id);
      }
    }
    for (const id of [...mine.current]) {
      if (!want.has(id)) {
        live.unsubscribe('task', id);
        mine.current.delete(id);
      }
    }
  }, [live, key]);
  useEffect(() => {
    if (!live) return;
    const followed = mine.current;
    return () => {
      for (const id of followed) live.unsubscribe('task', id);
      followed.clear();
    };
  }, [live]);
  useEffect(() => {
    if (!live) return;
    const want = new Set(key ? key.split(',') : []);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = live.on((m) => {
      const e = m.type === 'event' ? m.event : undefined;
      if (!e || e.kind === 'token' || (!want.has(e.root) && !want.has(e.task_id))) return;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        changedRef.current();
      }, settleMs);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [live, key, settleMs]);
}

export function useHash(): [string, (h: string) => void] {
  const [hash, setHash] = useState(() => window.location.hash.slice(1) || '/chat');
  useEffect(() => {
    const on = () => setHash(window.location.hash.slice(1) || '/chat');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const go = useCallback((h: string) => {
    window.location.hash = h;
  }, []);
  return [hash, go];
}

export const fmtTime = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
};
