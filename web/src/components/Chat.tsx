// Chat.tsx — conversations on the left, the selected one on the right: its
// stored messages, then the requests sent from this page, live.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Api } from '../api';
import type { Live, ServerMessage } from '../live';
import type { ConversationDetail, TaskEvent } from '../types';
import { emptyView, parseAgent, reduce, type TaskView } from '../events';
import { fmtTime, usePoll } from '../hooks';
import { TaskCard } from './TaskCard';
import { Prose } from './Text';

interface Turn {
  taskId: string;
  request: string;
  conversationId: string;
}

interface Props {
  api: Api;
  live: Live;
  conversationId?: string;
  go: (hash: string) => void;
}

/** Events folded into views at most every FLUSH_MS, in an animation frame:
 * a burst of tokens costs one render, and the frames between renders stay
 * cheap (a render lays out the whole growing answer again), so a fast
 * stream does not make the page stutter.  The socket's worker already
 * merges each task's tokens (workersocket.ts). */
const FLUSH_MS = 50;

function useTaskViews(live: Live) {
  const [views, setViews] = useState<Record<string, TaskView>>({});
  const queue = useRef<TaskEvent[]>([]);
  useEffect(() => {
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const flush = () => {
      frame = 0;
      timer = undefined;
      last = performance.now();
      const batch = queue.current;
      queue.current = [];
      setViews((old) => {
        const next = { ...old };
        for (const e of batch) next[e.root] = reduce(next[e.root] ?? emptyView(e.root), e);
        return next;
      });
    };
    const off = live.on((m: ServerMessage) => {
      if (m.type !== 'event' || !m.event) return;
      queue.current.push(m.event);
      if (frame || timer) return;
      timer = setTimeout(() => {
        frame = requestAnimationFrame(flush);
      }, Math.max(0, last + FLUSH_MS - performance.now()));
    });
    return () => {
      off();
      clearTimeout(timer);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [live]);
  return views;
}

export function Chat({ api, live, conversationId, go }: Props) {
  const convs = usePoll(() => api.conversations(), 10000);
  const agents = usePoll(() => api.agents().then((a) => a.map((x) => x.name)), 60000);
  const [history, setHistory] = useState<ConversationDetail | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [input, setInput] = useState('');
  const [error, setError] = useState<string | null>(null);
  const views = useTaskViews(live);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setHistory(null);
    if (!conversationId) return;
    let gone = false;
    api.conversation(conversationId).then((c) => !gone && setHistory(c), (e: Error) => !gone && setError(e.message));
    return () => {
      gone = true;
    };
  }, [api, conversationId]);

  const shown = useMemo(() => turns.filter((t) => t.conversationId === (conversationId ?? '')), [turns, conversationId]);
  const liveIds = useMemo(() => new Set(turns.map((t) => t.taskId)), [turns]);
  const lastView = shown.length ? views[shown[shown.length - 1]!.taskId] : undefined;
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: 'end' });
  }, [shown.length, lastView?.events]);
  useEffect(() => {
    if (lastView && ['done', 'failed', 'cancelled'].includes(lastView.status)) void convs.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastView?.status]);

  const send = useCallback(async () => {
    const { agent, message } = parseAgent(input, agents.data);
    if (!message) return;
    setError(null);
    setInput('');
    try {
      let taskId: string;
      let convId: string;
      if (live.state === 'open') {
        const a = await live.chat(message, conversationId, agent);
        taskId = a.task_id!;
        convId = a.conversation_id!;
      } else {
        // The socket is reconnecting: submit over REST and follow the task
        // once it is back (its stored events are replayed then).
        const a = await api.chat(message, conversationId, agent);
        taskId = a.task_id;
        convId = a.conversation_id;
        live.subscribe('task', taskId);
      }
      setTurns((t) => [...t, { taskId, request: input.trim(), conversationId: convId }]);
      if (convId !== conversationId) go(`/chat/${convId}`);
    } catch (e) {
      setInput((cur) => cur || input);
      setError(e instanceof Error ? e.message : String(e));
    }
  }, [api, live, input, agents.data, conversationId, go]);

  const cancel = useCallback(
    (id: string) => {
      api.cancel(id).catch((e: Error) => setError(e.message));
    },
    [api],
  );
  const approve = useCallback(
    (taskId: string, callId: string, decision: 'allow' | 'deny' | 'always') => {
      live.approve(taskId, callId, decision).catch((e: Error) => setError(e.message));
    },
    [live],
  );

  return (
    <div className="chat">
      <nav className="convs" aria-label="conversations">
        <button type="button" className="new" onClick={() => go('/chat')}>
          + New conversation
        </button>
        <ul>
          {(convs.data ?? []).map((c) => (
            <li key={c.id}>
              <a href={`#/chat/${c.id}`} aria-current={c.id === conversationId ? 'page' : undefined}>
                <span className="title">{c.title || 'untitled'}</span>
                <span className="dim small">{fmtTime(c.updated)}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <section className="pane" aria-label="chat">
        <div className="log">
          {history?.messages
            .filter((m) => !m.task_id || !liveIds.has(m.task_id))
            .map((m) => (
              <div key={m.id} className={`msg ${m.role}`}>
                <Prose text={m.content} />
              </div>
            ))}
          {shown.map((t) => (
            <TaskCard key={t.taskId} view={views[t.taskId] ?? emptyView(t.taskId)} request={t.request} onCancel={cancel} onApprove={approve} />
          ))}
          {!conversationId && shown.length === 0 && (
            <p className="dim hint">
              Ask anything; <code>@code</code>, <code>@research</code>, <code>@data</code>… sends it to that agent. Enter sends,
              Shift+Enter starts a new line.
            </p>
          )}
          <div ref={bottom} />
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <form
          className="composer"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label htmlFor="message" className="sr-only">
            Message
          </label>
          <textarea
            id="message"
            ref={inputRef}
            value={input}
            rows={2}
            placeholder="Message errand (/ to focus)"
            onChange={(e) => setInput(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                void send();
              }
            }}
          />
          <button type="submit" disabled={!input.trim()}>
            Send
          </button>
        </form>
      </section>
    </div>
  );
}
