import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Graph } from './Graph';
import type { Api } from '../api';
import type { Entity, Relation } from '../types';

afterEach(cleanup);

const ent = (id: string, name: string, relations: number, extra: Partial<Entity> = {}): Entity => ({
  id, name, type: '', owner: 'user', relations, created: '2026-01-01T00:00:00Z', ...extra,
});
const rel = (id: string, s: Entity, p: string, o: Entity, depth = 1): Relation => ({
  id, subject_id: s.id, subject: s.name, predicate: p, object_id: o.id, object: o.name, confidence: 1, source: '', depth,
});

const ada = ent('e1', 'Ada', 1);
const grace = ent('e2', '<img src=x onerror="window.__g=1">Grace', 2, { type: 'person' });
const navy = ent('e3', 'Navy', 1, { owner: 'shared' });
const all = [ada, grace, navy];
const rels = [rel('r1', ada, 'knows', grace), rel('r2', grace, 'served in', navy)];

function fakeApi() {
  const api = {
    graph: vi.fn(async (q: string) => ({
      entities: all.filter((e) => e.name.toLowerCase().includes(q.toLowerCase())),
      relations: rels,
    })),
    entity: vi.fn(async (id: string, depth: number) => {
      const e = all.find((x) => x.id === id)!;
      const near = rels.filter((r) => r.subject_id === id || r.object_id === id);
      const far = depth > 1 ? rels.filter((r) => !near.includes(r)).map((r) => ({ ...r, depth: 2 })) : [];
      return { entity: { ...e, aliases: [e.name.toLowerCase()] }, relations: [...near, ...far] };
    }),
  };
  return { api: api as unknown as Api, calls: api };
}

describe('Graph', () => {
  it('finds entities, opens one as a picture and a list, and follows a relation by keyboard', async () => {
    const { api, calls } = fakeApi();
    const { container } = render(<Graph api={api} settleMs={0} />);
    const section = await screen.findByRole('region', { name: 'memory graph' });
    await within(section).findByRole('button', { name: 'Ada' });
    expect(container.textContent).toContain('<img src=x onerror="window.__g=1">Grace');
    expect(container.querySelector('img, script')).toBeNull();
    expect(container.textContent).toContain('person · 2 relations');
    expect(container.textContent).toContain('1 relation · shared');

    fireEvent.change(screen.getByLabelText('Search entities'), { target: { value: 'nav' } });
    await waitFor(() => expect(section.querySelectorAll('li[data-entity]')).toHaveLength(1));
    expect(calls.graph).toHaveBeenLastCalledWith('nav');
    fireEvent.change(screen.getByLabelText('Search entities'), { target: { value: '' } });
    await waitFor(() => expect(section.querySelectorAll('li[data-entity]')).toHaveLength(3));

    fireEvent.click(within(section).getByRole('button', { name: 'Ada' }));
    const heading = await screen.findByRole('heading', { name: 'Ada' });
    expect(document.activeElement).toBe(heading); // the focus follows the opened entity
    const picture = screen.getByRole('img', { name: 'Ada and 1 relation' });
    expect(picture.querySelectorAll('[data-node]')).toHaveLength(2);
    expect(picture.textContent).toContain('knows');
    const list = screen.getByRole('list', { name: 'relations' });
    expect(list.textContent).toContain('Ada knows');

    // The other end of a relation is a button: it opens that entity.
    fireEvent.click(within(list).getByRole('button', { name: /Grace/ }));
    await screen.findByRole('heading', { name: /Grace/ });
    expect(calls.entity).toHaveBeenLastCalledWith('e2', 1);
    expect(screen.getByRole('img', { name: /and 2 relations/ }).querySelectorAll('[data-node]')).toHaveLength(3);

    // Two steps: the walk goes further.
    fireEvent.change(screen.getByLabelText('Depth'), { target: { value: '2' } });
    await waitFor(() => expect(calls.entity).toHaveBeenLastCalledWith('e2', 2));
  });

  it('says when nothing is found, and shows the error of a failed call', async () => {
    const { api, calls } = fakeApi();
    calls.entity.mockRejectedValueOnce(new Error('no entity'));
    render(<Graph api={api} settleMs={0} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Ada' }));
    expect((await screen.findByRole('alert')).textContent).toBe('no entity');
    fireEvent.change(screen.getByLabelText('Search entities'), { target: { value: 'zzz' } });
    await screen.findByText('No entity has that name.');
  });
});
