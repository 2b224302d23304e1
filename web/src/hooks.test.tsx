import { describe, expect, it, vi } from 'vitest';
import { act, renderHook } from '@testing-library/react';
import { useTaskPush } from './hooks';
import type { Live, ServerMessage } from './live';

function fakeLive() {
  const subs = new Set<string>();
  const listeners = new Set<(m: ServerMessage) => void>();
  const live = {
    has: (_k: string, id: string) => subs.has(id),
    subscribe: vi.fn((_k: string, id: string) => void subs.add(id)),
    unsubscribe: vi.fn((_k: string, id: string) => void subs.delete(id)),
    on: (fn: (m: ServerMessage) => void) => (listeners.add(fn), () => listeners.delete(fn)),
  };
  const emit = (m: ServerMessage) => listeners.forEach((fn) => fn(m));
  return { live: live as unknown as Live, subs, emit, raw: live };
}

const ev = (root: string, kind: string, id?: number): ServerMessage => ({
  type: 'event',
  event: { id, kind, task_id: root, root, ts: '', data: {} } as unknown as ServerMessage['event'],
});

describe('useTaskPush', () => {
  it('follows the tasks, reloads once per burst of stored events, ignores tokens and other tasks', async () => {
    vi.useFakeTimers();
    const f = fakeLive();
    f.subs.add('C'); // followed by the chat already
    const changed = vi.fn();
    const { rerender, unmount } = renderHook(({ ids }) => useTaskPush(f.live, ids, changed, 100), {
      initialProps: { ids: ['A', 'B', 'C'] },
    });
    expect([...f.subs].sort()).toEqual(['A', 'B', 'C']);
    act(() => f.emit(ev('A', 'token')));
    act(() => f.emit(ev('Z', 'state', 1)));
    await act(async () => vi.advanceTimersByTime(200));
    expect(changed).not.toHaveBeenCalled();
    act(() => {
      f.emit(ev('A', 'state', 2));
      f.emit(ev('B', 'tool_call', 3));
    });
    await act(async () => vi.advanceTimersByTime(200));
    expect(changed).toHaveBeenCalledTimes(1);
    // B ended: its subscription goes; C was the chat's and stays on unmount.
    rerender({ ids: ['A'] });
    expect(f.subs.has('B')).toBe(false);
    unmount();
    expect([...f.subs]).toEqual(['C']);
    expect(f.raw.unsubscribe).not.toHaveBeenCalledWith('task', 'C');
    vi.useRealTimers();
  });
});
