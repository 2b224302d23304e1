// hooks.ts — polling a REST resource while the page is visible, and the
// hash route.
import { useCallback, useEffect, useRef, useState } from 'react';

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
