import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Memories } from './Memories';
import type { Api } from '../api';
import type { MemoryItem } from '../types';

afterEach(cleanup);

const item = (id: string, text: string, extra: Partial<MemoryItem> = {}): MemoryItem => ({
  id, text, kind: 'fact', scope: 'user', owner: 'user', untrusted: false,
  created: '2026-01-01T00:00:00Z', updated: '2026-01-01T00:00:00Z', ...extra,
});

function fakeApi(store: MemoryItem[]) {
  const api = {
    memories: vi.fn(async (q: string) => store.filter((m) => !q || m.text.includes(q))),
    memory: vi.fn(async (id: string) => store.find((m) => m.id === id)!),
    forget: vi.fn(async (id: string) => {
      store.splice(store.findIndex((m) => m.id === id), 1);
      return { id, forgotten: true };
    }),
  };
  return { api: api as unknown as Api, calls: api };
}

describe('Memories', () => {
  it('lists memories with model markup as text, searches, opens and forgets', async () => {
    const store = [
      item('m1', '<img src=x onerror="window.__m=1">likes tea'),
      item('m2', 'the cat is called Miso', { owner: 'shared', untrusted: true }),
    ];
    const { api, calls } = fakeApi(store);
    const { container } = render(<Memories api={api} settleMs={0} />);
    await screen.findByText('the cat is called Miso');
    expect(container.querySelector('img, script')).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror="window.__m=1">likes tea');
    expect(container.textContent).toContain('shared · from outside content');

    fireEvent.change(screen.getByLabelText('Search memories'), { target: { value: 'Miso' } });
    await waitFor(() => expect(container.querySelectorAll('li')).toHaveLength(1));
    expect(calls.memories).toHaveBeenLastCalledWith('Miso');

    fireEvent.click(screen.getByRole('button', { name: 'the cat is called Miso' }));
    await waitFor(() => expect(container.querySelector('.memory-detail')).not.toBeNull());
    expect(calls.memory).toHaveBeenCalledWith('m2');

    fireEvent.click(screen.getByRole('button', { name: /^Forget: the cat/ }));
    await waitFor(() => expect(calls.forget).toHaveBeenCalledWith('m2'));
    await screen.findByText('Nothing remembered matches.');
    expect(container.querySelector('.memory-detail')).toBeNull();
    expect(store.map((m) => m.id)).toEqual(['m1']);
  });

  it('shows a refusal as an error', async () => {
    const store = [item('s1', 'shared fact', { owner: 'shared' })];
    const { api, calls } = fakeApi(store);
    calls.forget.mockRejectedValueOnce(new Error('only admins forget memories every user shares'));
    render(<Memories api={api} settleMs={0} />);
    fireEvent.click(await screen.findByRole('button', { name: /^Forget: shared fact/ }));
    expect((await screen.findByRole('alert')).textContent).toContain('only admins');
    expect(screen.getByText('shared fact')).toBeTruthy();
  });
});
