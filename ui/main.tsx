import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { clearSession, loadSession, saveSession, setUnauthorizedHandler, signIn, tenantApi, type Session } from './api.js';
import { AppContext, errorText, useRoute } from './hooks.js';
import { reveal } from './text.js';
import { RunsView } from './views/runs.js';
import { RunView } from './views/run.js';
import { DetectionsView } from './views/detections.js';
import { DashboardsView } from './views/dashboards.js';
import { FeedbackView } from './views/feedback.js';
import { AuditView } from './views/audit.js';

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await signIn(key.trim());
      saveSession(s);
      setKey('');
      onSignedIn(s);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>tracefold</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error !== null && (
          <p role="alert" class="error">
            {reveal(error)}
          </p>
        )}
        <p class="hint">The key is exchanged for a token kept for this tab only. Create a tenant and key with POST /api/v1/auth/tenants (README: Walkthrough).</p>
      </form>
    </main>
  );
}

const NAV: readonly [string, string][] = [
  ['runs', 'Runs'],
  ['detections', 'Detections'],
  ['dashboards', 'Dashboards'],
  ['feedback', 'Feedback'],
  ['audit', 'Audit'],
];

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [live, setLive] = useState(true);
  const route = useRoute();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      clearSession();
      setSession(null);
    });
  }, []);
  const state = useMemo(() => (session === null ? null : { session, api: tenantApi(session), live }), [session, live]);
  if (state === null) return <SignIn onSignedIn={setSession} />;
  const section = route.path[0] ?? 'runs';
  let view;
  if (section === 'runs' && route.path[1] !== undefined) view = <RunView traceId={route.path[1]} span={route.query.get('span')} detection={route.query.get('detection')} />;
  else if (section === 'detections') view = <DetectionsView />;
  else if (section === 'dashboards') view = <DashboardsView />;
  else if (section === 'feedback') view = <FeedbackView />;
  else if (section === 'audit') view = <AuditView />;
  else view = <RunsView />;
  return (
    <AppContext.Provider value={state}>
      <header class="top">
        <span class="brand">tracefold</span>
        <nav aria-label="Sections">
          {NAV.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={section === id ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <label class="live">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live
        </label>
        <span class="tenant" title="tenant">
          {reveal(session!.tenantId)}
        </span>
        <button
          type="button"
          onClick={() => {
            clearSession();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">{view}</main>
    </AppContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
