// Memories.tsx — what errand remembers about the user (and what every user
// shares): listed, searched by words and meaning, opened, forgotten.  The
// text of a memory may come from a model or a web page, so it is shown as
// text only (React escapes it), as everything else is.
import { useEffect, useState } from 'react';
import type { Api } from '../api';
import type { MemoryItem } from '../types';
import { fmtTime } from '../hooks';

export function Memories({ api, settleMs = 250 }: { api: Api; settleMs?: number }) {
  const [q, setQ] = useState('');
  const [items, setItems] = useState<MemoryItem[] | null>(null);
  const [open, setOpen] = useState<MemoryItem | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [gen, setGen] = useState(0);
  // A search waits for typing to pause; an answer to an older query is dropped.
  useEffect(() => {
    let stale = false;
    const timer = setTimeout(() => {
      api.memories(q.trim()).then(
        (m) => !stale && (setItems(m), setError(null)),
        (e: Error) => !stale && setError(e.message),
      );
    }, q ? settleMs : 0);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [api, q, gen, settleMs]);
  const forget = (m: MemoryItem) =>
    api.forget(m.id).then(
      () => {
        setItems((xs) => (xs ?? []).filter((x) => x.id !== m.id));
        if (open?.id === m.id) setOpen(null);
        setGen((g) => g + 1);
      },
      (e: Error) => setError(e.message),
    );
  return (
    <section className="list" aria-label="memories">
      <h2>Memories</h2>
      <label>
        Search memories <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {items && items.length === 0 && <p className="dim">{q ? 'Nothing remembered matches.' : 'Nothing remembered yet.'}</p>}
      <ul className="plain">
        {(items ?? []).map((m) => (
          <li key={m.id} data-memory={m.id}>
            <button type="button" className="link" onClick={() => api.memory(m.id).then(setOpen, (e: Error) => setError(e.message))}>
              {m.text.length > 120 ? `${m.text.slice(0, 120)}…` : m.text}
            </button>{' '}
            <span className="dim small">
              {m.kind}
              {m.owner === 'shared' ? ' · shared' : ''}
              {m.untrusted ? ' · from outside content' : ''}
            </span>{' '}
            <button type="button" className="small danger" aria-label={`Forget: ${m.text.slice(0, 60)}`} onClick={() => void forget(m)}>
              Forget
            </button>
          </li>
        ))}
      </ul>
      {open && (
        <div className="memory-detail" aria-label="memory">
          <p className="request">{open.text}</p>
          <dl className="facts">
            <dt>kind</dt>
            <dd>{open.kind}</dd>
            <dt>scope</dt>
            <dd>
              {open.scope}
              {open.scope_id ? ` ${open.scope_id}` : ''}
            </dd>
            <dt>source</dt>
            <dd>{open.source ?? '—'}</dd>
            <dt>saved</dt>
            <dd>{fmtTime(open.created)}</dd>
            <dt>updated</dt>
            <dd>{fmtTime(open.updated)}</dd>
            {open.expires && (
              <>
                <dt>expires</dt>
                <dd>{fmtTime(open.expires)}</dd>
              </>
            )}
          </dl>
        </div>
      )}
    </section>
  );
}
