// Agents.tsx — the agent monitor: every agent and its subagents, the state of
// its queue (waiting messages, workers when networked) and the tasks it is
// running now, refreshed every 2 s.
import type { Api } from '../api';
import { usePoll } from '../hooks';

export function Agents({ api }: { api: Api }) {
  const agents = usePoll(() => api.agents(), 2000);
  const running = usePoll(() => api.tasks({ status: 'running', limit: 100 }), 2000);
  return (
    <section className="agents-view" aria-label="agents">
      {agents.error && <p className="error">{agents.error}</p>}
      <div className="cards">
        {(agents.data ?? []).map((a) => {
          const mine = (running.data ?? []).filter((t) => t.agent === a.name);
          return (
            <article key={a.name} className="card" data-agent={a.name} aria-label={`agent ${a.name}`}>
              <h2>
                {a.name} <span className={`state st-${a.status.state}`}>{a.status.state}</span>
              </h2>
              <p className="dim">{a.description}</p>
              <dl className="facts">
                <dt>queue</dt>
                <dd>{a.status.queue}</dd>
                <dt>waiting</dt>
                <dd>{a.status.waiting ?? '—'}</dd>
                <dt>workers</dt>
                <dd>{a.status.consumers ?? '—'}</dd>
                <dt>running</dt>
                <dd>{mine.length}</dd>
              </dl>
              {mine.length > 0 && (
                <ul className="now">
                  {mine.map((t) => (
                    <li key={t.id}>
                      <a href={`#/tasks/${t.id}`}>{t.request.slice(0, 60)}</a>
                    </li>
                  ))}
                </ul>
              )}
              <details>
                <summary>
                  {a.subagents.length} subagents, {a.tools.length} tools
                </summary>
                <ul>
                  {a.subagents.map((s) => (
                    <li key={s.name}>
                      <strong>{s.name}</strong>: {s.description} <span className="dim">({s.tools.join(', ')})</span>
                    </li>
                  ))}
                </ul>
                <p className="dim small">{a.tools.join(', ')}</p>
              </details>
            </article>
          );
        })}
      </div>
    </section>
  );
}
