// Login.tsx — exchange an API token (`errand user token NAME`) for a session.
// The token is sent once and kept nowhere; autocomplete is off so the browser
// does not offer to store it.
import { useEffect, useState } from 'react';
import type { Api } from '../api';
import type { User } from '../types';

export function Login({ api, onLogin }: { api: Api; onLogin: (u: User) => void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sso, setSso] = useState(false);
  useEffect(() => {
    let gone = false;
    // Back from the identity provider: the fragment holds a refresh token.
    const m = /^#\/oidc\/([A-Za-z0-9_.~-]+)$/.exec(window.location.hash);
    if (m) {
      window.history.replaceState(null, '', '/#/chat');
      setBusy(true);
      api.loginWithRefreshToken(m[1]!).then(
        (u) => !gone && onLogin(u),
        (e: Error) => {
          if (!gone) {
            setError(`single sign-on failed: ${e.message}`);
            setBusy(false);
          }
        },
      );
    }
    void api.oidcAvailable().then((ok) => !gone && setSso(ok));
    return () => {
      gone = true;
    };
  }, [api, onLogin]);
  // When the first view is usable: the README's figure, measured by the e2e test.
  useEffect(() => {
    performance.mark('errand:login-ready');
  }, []);
  return (
    <main className="login">
      <form
        aria-label="log in"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            onLogin(await api.loginWithApiToken(token.trim()));
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
            setToken('');
          }
        }}
      >
        <h1>errand</h1>
        <label htmlFor="api-token">API token</label>
        <input
          id="api-token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="errand user token NAME"
          required
        />
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {sso && (
          <a className="button" href="/api/v1/auth/oidc/login">
            Log in with single sign-on
          </a>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <p className="dim small">
          The session lives in this tab only: reloading the page logs you out.
        </p>
      </form>
    </main>
  );
}
