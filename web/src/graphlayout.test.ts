import { radialLayout } from './graphlayout';
import type { Relation } from './types';

const rel = (id: string, s: string, p: string, o: string): Relation => ({
  id, subject_id: s, subject: s.toUpperCase(), predicate: p, object_id: o, object: o.toUpperCase(), confidence: 1, source: '',
});

describe('radialLayout', () => {
  it('puts the entity in the middle and each other on the ring of its distance', () => {
    const rels = [rel('r1', 'a', 'knows', 'b'), rel('r2', 'c', 'likes', 'a'), rel('r3', 'b', 'works at', 'd')];
    const { nodes, edges } = radialLayout({ id: 'a', name: 'A' }, rels, 400);
    const at = Object.fromEntries(nodes.map((n) => [n.id, n]));
    expect(at.a).toMatchObject({ x: 200, y: 200, depth: 0 });
    expect(at.b!.depth).toBe(1);
    expect(at.c!.depth).toBe(1);
    expect(at.d!.depth).toBe(2);
    expect(at.c!.name).toBe('C');
    const r = (id: string) => Math.hypot(at[id]!.x - 200, at[id]!.y - 200);
    expect(r('b')).toBeCloseTo(r('c'));
    expect(r('d')).toBeGreaterThan(r('b') + 1);
    expect(edges.map((e) => `${e.from}-${e.label}-${e.to}`)).toEqual(['a-knows-b', 'c-likes-a', 'b-works at-d']);
  });

  it('is the same picture whatever order the relations come in, and drops what does not fit', () => {
    const rels = ['x', 'y', 'z', 'w'].map((o, i) => rel(`r${i}`, 'a', 'has', o));
    const one = radialLayout({ id: 'a', name: 'A' }, rels);
    const two = radialLayout({ id: 'a', name: 'A' }, [...rels].reverse());
    const key = (l: typeof one) => l.nodes.map((n) => `${n.id}@${n.x.toFixed(1)},${n.y.toFixed(1)}`).sort();
    expect(key(two)).toEqual(key(one));
    const small = radialLayout({ id: 'a', name: 'A' }, rels, 400, 3);
    expect(small.nodes).toHaveLength(3);
    expect(small.edges).toHaveLength(2);
  });
});
