import { Api, ApiError } from './api';

type Call = { url: string; init: RequestInit };
function fakeFetch(handler: (c: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    const c = { url, init };
    calls.push(c);
    const r = handler(c);
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status });
  }) as unknown as typeof fetch;
  return { fn, calls };
}
const pair = (n: number) => ({
  access_token: `acc${n}`, token_type: 'Bearer', expires_in: 900, refresh_token: `ref${n}`,
  refresh_expires_in: 9999, session_id: 's', user: { id: 'u', name: 'ada', role: 'user' },
});

describe('Api', () => {
  it('keeps the tokens in memory only and refreshes once on a 401', async () => {
    let served = 0;
    const { fn, calls } = fakeFetch(({ url, init }) => {
      if (url.endsWith('/auth/token')) return { status: 200, body: pair(1) };
      if (url.endsWith('/auth/refresh')) {
        expect(JSON.parse(init.body as string)).toEqual({ refresh_token: 'ref1' });
        return { status: 200, body: pair(2) };
      }
      const auth = (init.headers as Record<string, string>).Authorization;
      if (auth === 'Bearer acc1') return { status: 401, body: { error: { message: 'expired' } } };
      served++;
      return { status: 200, body: { tasks: [] } };
    });
    const api = new Api('', fn);
    const user = await api.loginWithApiToken('errand_abc');
    expect(user.name).toBe('ada');
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    await expect(api.tasks()).resolves.toEqual([]);
    expect(served).toBe(1);
    expect(calls.map((c) => c.url.replace(/\?.*/, ''))).toEqual([
      '/api/v1/auth/token', '/api/v1/tasks', '/api/v1/auth/refresh', '/api/v1/tasks',
    ]);
    expect(await api.token()).toBe('acc2');
    await api.logout();
    expect(api.loggedIn).toBe(false);
  });

  it('logs out when the refresh is refused', async () => {
    const { fn } = fakeFetch(({ url }) => {
      if (url.endsWith('/auth/token')) return { status: 200, body: pair(1) };
      return { status: 401, body: { error: { message: 'session ended' } } };
    });
    const api = new Api('', fn);
    let out = 0;
    api.onLogout = () => out++;
    await api.loginWithApiToken('t');
    await expect(api.agents()).rejects.toBeInstanceOf(ApiError);
    expect(out).toBe(1);
    expect(api.loggedIn).toBe(false);
  });

  it("reports the server's error message", async () => {
    const { fn } = fakeFetch(() => ({ status: 401, body: { error: { message: 'the token is unknown' } } }));
    await expect(new Api('', fn).loginWithApiToken('bad')).rejects.toThrow('the token is unknown');
  });
});
