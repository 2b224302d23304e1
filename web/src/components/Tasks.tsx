// Tasks.tsx — the task tracker: filter, sort and page the tasks, open one to
// see its whole event timeline; cancel and retry.  Tasks still in flight are
// followed over the WebSocket, so their state changes show as they happen.
// The socket has no feed of tasks started elsewhere, so the list is still
// fetched now and then to find those: slowly while the socket is up, more
// often while it is down and nothing is pushed.
import { useMemo, useState } from 'react';
import type { Api } from '../api';
import type { Live } from '../live';
import type { Task, TaskStatus } from '../types';
import { fmtTime, useLiveState, usePoll, useTaskPush } from '../hooks';
import { Output } from './Text';

export const POLL_LIVE_MS = 15000;
export const POLL_DOWN_MS = 3000;
const inFlight = (t: Task) => !['done', 'failed', 'cancelled'].includes(t.status);

const STATUSES: TaskStatus[] = ['queued', 'routed', 'running', 'done', 'failed', 'cancelled'];
const PAGE = 20;
type SortKey = 'created' | 'updated' | 'status' | 'agent';

export function filterTasks(tasks: Task[], f: { status: string; agent: string; text: string }, sort: SortKey, desc: boolean) {
  const text = f.text.toLowerCase();
  const out = tasks.filter(
    (t) =>
      (!f.status || t.status === f.status) &&
      (!f.agent || t.agent === f.agent) &&
      (!text || t.request.toLowerCase().includes(text) || t.id.includes(text) || (t.user_id ?? '').includes(text)),
  );
  out.sort((a, b) => {
    const x = String(a[sort] ?? '');
    const y = String(b[sort] ?? '');
    return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
  });
  return out;
}

export function Tasks({ api, live, taskId, go }: { api: Api; live?: Live; taskId?: string; go: (h: string) => void }) {
  const pollMs = useLiveState(live) === 'open' ? POLL_LIVE_MS : POLL_DOWN_MS;
  const list = usePoll(() => api.tasks({ limit: 500 }), pollMs);
  const following = useMemo(() => (list.data ?? []).filter(inFlight).map((t) => t.id), [list.data]);
  useTaskPush(live, following, list.reload);
  const [f, setF] = useState({ status: '', agent: '', text: '' });
  const [sort, setSort] = useState<SortKey>('created');
  const [desc, setDesc] = useState(true);
  const [page, setPage] = useState(0);
  const tasks = useMemo(() => filterTasks(list.data ?? [], f, sort, desc), [list.data, f, sort, desc]);
  const agents = useMemo(() => [...new Set((list.data ?? []).map((t) => t.agent).filter(Boolean))] as string[], [list.data]);
  const pages = Math.max(1, Math.ceil(tasks.length / PAGE));
  const cur = Math.min(page, pages - 1);
  const header = (k: SortKey, label: string) => (
    <th aria-sort={sort === k ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="link" onClick={() => (sort === k ? setDesc(!desc) : (setSort(k), setDesc(true)))}>
        {label}
        {sort === k ? (desc ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );
  return (
    <div className="split">
      <section className="list" aria-label="tasks">
        <div className="filters">
          <label>
            Status{' '}
            <select value={f.status} onChange={(e) => (setF({ ...f, status: e.target.value }), setPage(0))}>
              <option value="">all</option>
              {STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Agent{' '}
            <select value={f.agent} onChange={(e) => (setF({ ...f, agent: e.target.value }), setPage(0))}>
              <option value="">all</option>
              {agents.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label>
            Search <input type="search" value={f.text} onChange={(e) => (setF({ ...f, text: e.target.value }), setPage(0))} />
          </label>
        </div>
        {list.error && <p className="error">{list.error}</p>}
        <table>
          <thead>
            <tr>
              {header('status', 'Status')}
              {header('agent', 'Agent')}
              <th>Request</th>
              {header('created', 'Created')}
            </tr>
          </thead>
          <tbody>
            {tasks.slice(cur * PAGE, cur * PAGE + PAGE).map((t) => (
              <tr key={t.id} className={t.id === taskId ? 'sel' : undefined} data-task={t.id}>
                <td>
                  <span className={`status s-${t.status}`}>{t.status}</span>
                </td>
                <td>{t.agent ?? '—'}</td>
                <td>
                  <a href={`#/tasks/${t.id}`}>{t.request.length > 80 ? `${t.request.slice(0, 80)}…` : t.request}</a>
                </td>
                <td className="dim small">{fmtTime(t.created)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="pager">
          <button type="button" disabled={cur === 0} onClick={() => setPage(cur - 1)}>
            Previous
          </button>
          <span>
            page {cur + 1} of {pages} · {tasks.length} tasks
          </span>
          <button type="button" disabled={cur >= pages - 1} onClick={() => setPage(cur + 1)}>
            Next
          </button>
        </div>
      </section>
      {taskId && <TaskDetailView api={api} live={live} pollMs={pollMs} id={taskId} go={go} />}
    </div>
  );
}

function TaskDetailView({ api, live, pollMs, id, go }: { api: Api; live?: Live; pollMs: number; id: string; go: (h: string) => void }) {
  const t = usePoll(() => api.task(id), pollMs, [id]);
  const [msg, setMsg] = useState<string | null>(null);
  const d = t.data;
  const ended = d && !inFlight(d);
  useTaskPush(live, d && !ended ? [d.id] : [], t.reload);
  return (
    <section className="detail" aria-label="task detail">
      {t.error && <p className="error">{t.error}</p>}
      {d && (
        <>
          <h2>
            <span className={`status s-${d.status}`}>{d.status}</span> {d.agent ?? ''}
          </h2>
          <p className="request">{d.request}</p>
          <div className="row">
            {!ended && (
              <button type="button" className="danger" onClick={() => api.cancel(d.id).then(() => t.reload(), (e: Error) => setMsg(e.message))}>
                Cancel task
              </button>
            )}
            {ended && d.status !== 'done' && (
              <button
                type="button"
                onClick={() =>
                  api.chat(d.request, d.conversation_id ?? undefined, d.agent ?? undefined).then(
                    (a) => go(`/tasks/${a.task_id}`),
                    (e: Error) => setMsg(e.message),
                  )
                }
              >
                Retry
              </button>
            )}
            {d.conversation_id && <a href={`#/chat/${d.conversation_id}`}>Open the conversation</a>}
          </div>
          {msg && <p className="error">{msg}</p>}
          <dl className="facts">
            <dt>id</dt>
            <dd>{d.id}</dd>
            <dt>created</dt>
            <dd>{fmtTime(d.created)}</dd>
            <dt>updated</dt>
            <dd>{fmtTime(d.updated)}</dd>
            <dt>tokens</dt>
            <dd>
              {d.tokens_in} in / {d.tokens_out} out
            </dd>
          </dl>
          {d.result && (
            <>
              <h3>Result</h3>
              <Output text={d.result} />
            </>
          )}
          {d.error && <p className="error">{d.error}</p>}
          {d.subtasks.length > 0 && (
            <>
              <h3>Subtasks</h3>
              <ul>
                {d.subtasks.map((s) => (
                  <li key={s.id}>
                    <span className={`status s-${s.status}`}>{s.status}</span> {s.agent} — {s.request}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h3>Timeline ({d.steps.length} events)</h3>
          <ol className="timeline">
            {d.steps.map((e, i) => (
              <li key={e.id ?? i}>
                <details>
                  <summary>
                    <span className="kind">{e.kind}</span>{' '}
                    <span className="dim small">{e.ts ? new Date(e.ts).toLocaleTimeString() : ''}</span>{' '}
                    {typeof e.data.agent === 'string' && <span className="dim">{e.data.agent}</span>}{' '}
                    {typeof e.data.tool === 'string' && <code>{e.data.tool}</code>}
                  </summary>
                  <Output text={JSON.stringify(e.data, null, 2)} />
                </details>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
