// App.tsx — the shell: log in, then four views (chat, tasks, agents,
// memory) under one WebSocket connection; Alt+1…4 switch views, "/" focuses
// the message box.
import { useEffect, useMemo, useState } from 'react';
import { Api } from './api';
import { workerSocket } from './workersocket';
import { Live, type LiveState } from './live';
import type { User } from './types';
import { useHash } from './hooks';
import { Login } from './components/Login';
import { Chat } from './components/Chat';
import { Tasks } from './components/Tasks';
import { Agents } from './components/Agents';
import { Memory } from './components/Memory';
import { ImageLoader } from './components/Images';

const VIEWS = [
  { path: '/chat', label: 'Chat' },
  { path: '/tasks', label: 'Tasks' },
  { path: '/agents', label: 'Agents' },
  { path: '/memory', label: 'Memory' },
] as const;

function wsUrl(): string {
  const l = window.location;
  return `${l.protocol === 'https:' ? 'wss:' : 'ws:'}//${l.host}/ws`;
}

export function App({ api: given }: { api?: Api }) {
  const [api] = useState(() => given ?? new Api());
  const [user, setUser] = useState<User | null>(null);
  const live = useMemo(() => new Live({ url: wsUrl(), token: () => api.token(), open: typeof Worker === 'undefined' ? undefined : workerSocket }), [api]);
  const [liveState, setLiveState] = useState<LiveState>('closed');
  const [hash, go] = useHash();

  useEffect(() => {
    api.onLogout = () => setUser(null);
  }, [api]);
  useEffect(() => {
    if (!user) return;
    const off = live.onState(setLiveState);
    live.start();
    return () => {
      off();
      live.stop();
    };
  }, [user, live]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
      if (e.altKey && e.key >= '1' && e.key <= '4') {
        e.preventDefault();
        go(VIEWS[Number(e.key) - 1]!.path);
      } else if (e.key === '/' && !typing) {
        const box = document.getElementById('message');
        if (box) {
          e.preventDefault();
          box.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  if (!user) return <Login api={api} onLogin={setUser} />;

  const [, view = 'chat', id] = hash.split('/');
  return (
    <div className="app">
      <header>
        <strong className="brand">errand</strong>
        <nav aria-label="views">
          {VIEWS.map((v, i) => (
            <a key={v.path} href={`#${v.path}`} aria-current={`/${view}` === v.path ? 'page' : undefined} title={`Alt+${i + 1}`}>
              {v.label}
            </a>
          ))}
        </nav>
        <span className={`live live-${liveState}`} role="status" data-testid="live">
          {liveState === 'open' ? 'live' : liveState}
        </span>
        <span className="who">{user.name}</span>
        <button type="button" className="small" onClick={() => void api.logout()}>
          Log out
        </button>
      </header>
      <ImageLoader.Provider value={api.image}>
      <main>
        {view === 'chat' && <Chat api={api} live={live} conversationId={id} go={go} />}
        {view === 'tasks' && <Tasks api={api} live={live} taskId={id} go={go} />}
        {view === 'agents' && <Agents api={api} />}
        {view === 'memory' && <Memory api={api} />}
      </main>
      </ImageLoader.Provider>
    </div>
  );
}
