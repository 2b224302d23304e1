// Graph.tsx — the memory graph: entities found by part of a name, and one
// entity with its other names and relations, drawn as a node-link picture
// (graphlayout.ts) and listed as text.  The list is what the keyboard and a
// screen reader use: each entity in it is a button that opens it; the
// picture repeats it for the eye.  Names come from models and web pages:
// text only, as everywhere.
import { useEffect, useRef, useState } from 'react';
import type { Api } from '../api';
import type { Entity, Relation } from '../types';
import { radialLayout } from '../graphlayout';

const SIZE = 400;

export function Graph({ api, settleMs = 250 }: { api: Api; settleMs?: number }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Entity[] | null>(null);
  const [open, setOpen] = useState<{ entity: Entity; relations: Relation[] } | null>(null);
  const [depth, setDepth] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const focusNext = useRef(false);
  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      api.graph(q.trim()).then(
        (g) => !stale && (setFound(g.entities), setError(null)),
        (e: Error) => !stale && setError(e.message),
      );
    }, q ? settleMs : 0);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, q, settleMs]);
  const show = (id: string, d = depth) => {
    focusNext.current = true;
    api.entity(id, d).then(setOpen, (e: Error) => setError(e.message));
  };
  // Opening an entity moves the focus to it, so the keyboard follows.
  useEffect(() => {
    if (open && focusNext.current) heading.current?.focus();
    focusNext.current = false;
  }, [open]);
  const layout = open ? radialLayout(open.entity, open.relations, SIZE) : null;
  const pos = new Map(layout?.nodes.map((n) => [n.id, n]));
  const entityButton = (id: string, name: string) =>
    id && id !== open?.entity.id ? (
      <button type="button" className="link" onClick={() => show(id)}>
        {name}
      </button>
    ) : (
      <strong>{name}</strong>
    );
  return (
    <section className="list graph" aria-label="memory graph">
      <h2>Graph</h2>
      <label>
        Search entities <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {found && found.length === 0 && <p className="dim">{q ? 'No entity has that name.' : 'No entities remembered yet.'}</p>}
      <ul className="plain">
        {(found ?? []).map((e) => (
          <li key={e.id} data-entity={e.id}>
            <button type="button" className="link" aria-current={open?.entity.id === e.id ? 'true' : undefined} onClick={() => show(e.id)}>
              {e.name}
            </button>{' '}
            <span className="dim small">
              {e.type ? `${e.type} · ` : ''}
              {e.relations} {e.relations === 1 ? 'relation' : 'relations'}
              {e.owner === 'shared' ? ' · shared' : ''}
            </span>
          </li>
        ))}
      </ul>
      {open && layout && (
        <div className="entity-detail" aria-label="entity">
          <h3 ref={heading} tabIndex={-1}>
            {open.entity.name}
          </h3>
          {(open.entity.aliases ?? []).length > 0 && <p className="dim small">also: {open.entity.aliases!.join(', ')}</p>}
          <label>
            Depth{' '}
            <select
              value={depth}
              onChange={(e) => {
                const d = Number(e.target.value);
                setDepth(d);
                show(open.entity.id, d);
              }}
            >
              {[1, 2, 3].map((d) => (
                <option key={d} value={d}>
                  {d === 1 ? '1 step' : `${d} steps`}
                </option>
              ))}
            </select>
          </label>
          <svg className="graph-picture" viewBox={`0 0 ${SIZE} ${SIZE}`} role="img" aria-labelledby="graph-picture-title">
            <title id="graph-picture-title">{`${open.entity.name} and ${open.relations.length} ${open.relations.length === 1 ? 'relation' : 'relations'}`}</title>
            <defs>
              <marker id="graph-arrow" viewBox="0 0 10 10" refX="20" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" className="graph-arrowhead" />
              </marker>
            </defs>
            {layout.edges.map((e) => {
              const a = pos.get(e.from)!;
              const b = pos.get(e.to)!;
              return (
                <g key={e.id} className="graph-edge">
                  <line x1={a.x} y1={a.y} x2={b.x} y2={b.y} markerEnd="url(#graph-arrow)" />
                  <text x={(a.x + b.x) / 2} y={(a.y + b.y) / 2 - 3} textAnchor="middle">
                    {e.label.length > 24 ? `${e.label.slice(0, 24)}…` : e.label}
                  </text>
                </g>
              );
            })}
            {layout.nodes.map((n) => (
              <g
                key={n.id}
                className={`graph-node${n.depth === 0 ? ' centre' : ''}`}
                data-node={n.id}
                onClick={() => n.depth > 0 && show(n.id)}
              >
                <circle cx={n.x} cy={n.y} r={n.depth === 0 ? 9 : 6} />
                <text x={n.x} y={n.y + 20} textAnchor="middle">
                  {n.name.length > 28 ? `${n.name.slice(0, 28)}…` : n.name}
                </text>
              </g>
            ))}
          </svg>
          {open.relations.length === 0 ? (
            <p className="dim">No relations.</p>
          ) : (
            <ul className="plain relations" aria-label="relations">
              {open.relations.map((r) => (
                <li key={r.id} data-relation={r.id}>
                  {entityButton(r.subject_id, r.subject)} <span className="predicate">{r.predicate}</span>{' '}
                  {entityButton(r.object_id, r.object)}{' '}
                  <span className="dim small">
                    {r.confidence < 1 ? `confidence ${r.confidence}` : ''}
                    {r.source ? ` · from ${r.source}` : ''}
                    {r.depth && r.depth > 1 ? ` · ${r.depth} steps away` : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
