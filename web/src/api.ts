// api.ts — the REST client.  The tokens live in this object only (never in
// localStorage, sessionStorage or a cookie): a reload logs out, and a script
// injected into the page could not find them in storage.  An access token is
// refreshed a minute before it expires and once more on a 401.
import type {
  Entity,
  Relation,
  Agent, ChatAccepted, ConversationDetail, Conversation, MemoryItem, Task, TaskDetail, TokenPair, User,
} from './types';

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

type Fetch = typeof fetch;

export class Api {
  private access: string | null = null;
  private refreshToken: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  user: User | null = null;
  onLogout: () => void = () => {};

  constructor(private base = '', private fetchFn: Fetch = (...a) => fetch(...a)) {}

  get loggedIn(): boolean {
    return this.access !== null;
  }

  /** The current access token (the WebSocket sends it as a query parameter). */
  async token(): Promise<string> {
    if (this.refreshing) await this.refreshing;
    if (!this.access) throw new ApiError(401, 'not logged in');
    return this.access;
  }

  async loginWithApiToken(apiToken: string): Promise<User> {
    const pair = await this.post<TokenPair>('/api/v1/auth/token', { api_token: apiToken }, false);
    this.take(pair);
    return pair.user;
  }

  /** Finishes an OpenID Connect login: the server sent the browser back to
   * the page with a refresh token in the fragment; spending it gives the
   * page its own pair (and the token in the address bar is then dead). */
  async loginWithRefreshToken(refreshToken: string): Promise<User> {
    this.refreshToken = refreshToken;
    try {
      await this.refresh();
    } catch (e) {
      this.clear();
      throw e;
    }
    return this.user!;
  }

  /** Whether the server offers an OpenID Connect login (its start redirects). */
  async oidcAvailable(): Promise<boolean> {
    try {
      const res = await this.fetchFn(`${this.base}/api/v1/auth/oidc/login`, { method: 'GET', redirect: 'manual' });
      return res.type === 'opaqueredirect' || res.status === 302;
    } catch {
      return false;
    }
  }

  async logout(): Promise<void> {
    const rt = this.refreshToken;
    this.clear();
    if (rt) await this.post('/api/v1/auth/logout', { refresh_token: rt }, false).catch(() => {});
    this.onLogout();
  }

  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        const rt = this.refreshToken;
        if (!rt) throw new ApiError(401, 'not logged in');
        const pair = await this.post<TokenPair>('/api/v1/auth/refresh', { refresh_token: rt }, false);
        this.take(pair);
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private take(pair: TokenPair) {
    this.access = pair.access_token;
    this.refreshToken = pair.refresh_token;
    this.user = pair.user;
    if (this.timer) clearTimeout(this.timer);
    const ms = Math.max(5, pair.expires_in - 60) * 1000;
    this.timer = setTimeout(() => {
      this.refresh().catch(() => this.expired());
    }, ms);
  }

  private clear() {
    this.access = null;
    this.refreshToken = null;
    this.user = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private expired() {
    this.clear();
    this.onLogout();
  }

  private async call<T>(method: string, path: string, body: unknown, auth: boolean, retry = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth) headers.Authorization = `Bearer ${await this.token()}`;
    const res = await this.fetchFn(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && auth && retry && this.refreshToken) {
      try {
        await this.refresh();
      } catch {
        this.expired();
        throw new ApiError(401, 'the session ended: log in again');
      }
      return this.call<T>(method, path, body, auth, false);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: reported below */
    }
    if (!res.ok) {
      const msg = (json as { error?: { message?: string } } | undefined)?.error?.message;
      throw new ApiError(res.status, msg ?? `${method} ${path}: HTTP ${res.status}`);
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path, undefined, true);
  }

  post<T>(path: string, body?: unknown, auth = true): Promise<T> {
    return this.call<T>('POST', path, body ?? {}, auth);
  }

  del<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path, undefined, true);
  }

  /** An image from the user's workspace (GET /api/v1/files), as bytes. */
  image = async (path: string, retry = true): Promise<Blob> => {
    const res = await this.fetchFn(`${this.base}/api/v1/files?${new URLSearchParams({ path })}`, {
      headers: { Authorization: `Bearer ${await this.token()}` },
    });
    if (res.status === 401 && retry && this.refreshToken) {
      await this.refresh();
      return this.image(path, false);
    }
    if (!res.ok) throw new ApiError(res.status, `no image '${path}'`);
    const blob = await res.blob();
    if (!blob.type.startsWith('image/')) throw new ApiError(415, `'${path}' is not an image`);
    return blob;
  };

  me = () => this.get<User>('/api/v1/auth/me');
  tasks = (q: { status?: string; limit?: number } = {}) => {
    const p = new URLSearchParams();
    if (q.status) p.set('status', q.status);
    p.set('limit', String(q.limit ?? 200));
    return this.get<{ tasks: Task[] }>(`/api/v1/tasks?${p}`).then((r) => r.tasks);
  };
  task = (id: string) => this.get<TaskDetail>(`/api/v1/tasks/${encodeURIComponent(id)}`);
  cancel = (id: string) => this.post<Task>(`/api/v1/tasks/${encodeURIComponent(id)}/cancel`);
  chat = (message: string, conversation_id?: string, agent?: string) =>
    this.post<ChatAccepted>('/api/v1/chat', { message, conversation_id, agent });
  conversations = () =>
    this.get<{ conversations: Conversation[] }>('/api/v1/conversations?limit=200').then((r) => r.conversations);
  conversation = (id: string) => this.get<ConversationDetail>(`/api/v1/conversations/${encodeURIComponent(id)}`);
  /** The user's memories and the shared ones; with q, searched by words and meaning. */
  memories = (q = '', limit = 100) => {
    const p = new URLSearchParams({ limit: String(limit) });
    if (q) p.set('q', q);
    return this.get<{ memories: MemoryItem[] }>(`/api/v1/memory?${p}`).then((r) => r.memories);
  };
  memory = (id: string) => this.get<MemoryItem>(`/api/v1/memory/${encodeURIComponent(id)}`);
  forget = (id: string) => this.del<{ id: string; forgotten: boolean }>(`/api/v1/memory/${encodeURIComponent(id)}`);
  /** Entities of the memory graph whose names contain q, and the relations touching them. */
  graph = (q = '', limit = 30) =>
    this.get<{ entities: Entity[]; relations: Relation[] }>(`/api/v1/memory/graph?${new URLSearchParams({ q, limit: String(limit) })}`);
  /** An entity, its names, and the relations within depth steps of it. */
  entity = (id: string, depth = 1) =>
    this.get<{ entity: Entity; relations: Relation[] }>(`/api/v1/memory/entities/${encodeURIComponent(id)}?depth=${depth}`);
  agents = () => this.get<{ agents: Agent[] }>('/api/v1/agents').then((r) => r.agents);
}
