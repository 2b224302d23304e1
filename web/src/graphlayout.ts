// graphlayout.ts — where the memory graph's picture puts things: the entity
// in the middle, the entities one step away on a ring around it, those
// further out on a wider ring, each ring in name order so that the picture
// stays put when it is drawn again.  Pure: the tests check the positions.
import type { Relation } from './types';

export interface GraphNode {
  id: string;
  name: string;
  depth: number;
  x: number;
  y: number;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  label: string;
}

export interface Layout {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A radial layout of the relations around centre (id, name) in a
 * size × size square; nodes beyond maxNodes are left out with their edges. */
export function radialLayout(centre: { id: string; name: string }, relations: Relation[], size = 400, maxNodes = 40): Layout {
  const depth = new Map<string, { name: string; depth: number }>([[centre.id, { name: centre.name, depth: 0 }]]);
  // Breadth first over the relations, so a node's ring is its distance.
  for (let changed = true, d = 1; changed && d <= 8; d++) {
    changed = false;
    for (const r of relations) {
      const ends: [string, string, string, string][] = [[r.subject_id, r.object_id, r.object, r.subject], [r.object_id, r.subject_id, r.subject, r.object]];
      for (const [from, to, toName] of ends) {
        if (!from || !to || depth.get(from)?.depth !== d - 1 || depth.has(to)) continue;
        depth.set(to, { name: toName, depth: d });
        changed = true;
      }
    }
  }
  const rings = new Map<number, { id: string; name: string }[]>();
  for (const [id, v] of depth) {
    if (v.depth === 0) continue;
    const ring = rings.get(v.depth) ?? [];
    ring.push({ id, name: v.name });
    rings.set(v.depth, ring);
  }
  const c = size / 2;
  const nodes: GraphNode[] = [{ id: centre.id, name: centre.name, depth: 0, x: c, y: c }];
  const deepest = Math.max(1, ...rings.keys());
  for (const [d, ring] of [...rings].sort((a, b) => a[0] - b[0])) {
    ring.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const radius = ((size / 2) * 0.8 * d) / deepest;
    ring.forEach((n, i) => {
      if (nodes.length >= maxNodes) return;
      // The rings are turned against each other so labels overlap less.
      const a = (2 * Math.PI * i) / ring.length - Math.PI / 2 + (d - 1) * 0.3;
      nodes.push({ id: n.id, name: n.name, depth: d, x: c + radius * Math.cos(a), y: c + radius * Math.sin(a) });
    });
  }
  const placed = new Set(nodes.map((n) => n.id));
  const edges = relations
    .filter((r) => placed.has(r.subject_id) && placed.has(r.object_id))
    .map((r) => ({ id: r.id, from: r.subject_id, to: r.object_id, label: r.predicate }));
  return { nodes, edges };
}
