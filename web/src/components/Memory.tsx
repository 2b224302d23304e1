// Memory.tsx — what errand remembers: the long-term memories (Memories.tsx),
// the entity graph (Graph.tsx) and the conversations, searchable by title
// and by what was said in them.
import { useEffect, useMemo, useState } from 'react';
import type { Api } from '../api';
import type { ConversationDetail } from '../types';
import { fmtTime, usePoll } from '../hooks';
import { Prose } from './Text';
import { Memories } from './Memories';
import { Graph } from './Graph';

export function Memory({ api }: { api: Api }) {
  const convs = usePoll(() => api.conversations(), 10000);
  const [q, setQ] = useState('');
  const [open, setOpen] = useState<ConversationDetail | null>(null);
  const [bodies, setBodies] = useState<Record<string, string>>({});
  // Searching by content loads each conversation once.
  useEffect(() => {
    if (!q) return;
    for (const c of convs.data ?? []) {
      if (bodies[c.id] !== undefined) continue;
      api.conversation(c.id).then((d) =>
        setBodies((b) => ({ ...b, [d.id]: d.messages.map((m) => m.content).join('\n').toLowerCase() })),
      ).catch(() => {});
    }
  }, [q, convs.data, bodies, api]);
  const hits = useMemo(() => {
    const s = q.toLowerCase();
    return (convs.data ?? []).filter((c) => !s || c.title.toLowerCase().includes(s) || (bodies[c.id] ?? '').includes(s));
  }, [convs.data, q, bodies]);
  return (
    <div className="split">
      <section className="list" aria-label="conversations">
        <h2>Conversations</h2>
        <label>
          Search conversations <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <ul className="plain">
          {hits.map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => api.conversation(c.id).then(setOpen)}>
                {c.title || 'untitled'}
              </button>{' '}
              <span className="dim small">{fmtTime(c.updated)}</span>
            </li>
          ))}
        </ul>
      </section>
      <Memories api={api} />
      <Graph api={api} />
      {open && (
        <section className="detail" aria-label="conversation">
          <h2>{open.title}</h2>
          <p>
            <a href={`#/chat/${open.id}`}>Continue in the chat</a>
          </p>
          {open.messages.map((m) => (
            <div key={m.id} className={`msg ${m.role}`}>
              <Prose text={m.content} />
            </div>
          ))}
        </section>
      )}
    </div>
  );
}
