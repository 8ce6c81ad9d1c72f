import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Session } from './api.js';

export interface AppState {
  readonly session: Session;
  readonly api: Api;
  /** Views refresh themselves every few seconds while live is on. */
  readonly live: boolean;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const s = useContext(AppContext);
  if (s === null) throw new Error('outside the signed-in app');
  return s;
}

export const LIVE_INTERVAL_MS = 3000;

/**
 * Calls `f` now, when `deps` change, and every LIVE_INTERVAL_MS while live; a tick is
 * skipped while the previous call is still running (a slow API is not piled on).
 */
export function usePoll(f: () => Promise<void> | void, live: boolean, deps: readonly unknown[]): void {
  const ref = useRef(f);
  ref.current = f;
  const running = useRef(false);
  useEffect(() => {
    void ref.current();
  }, deps);
  useEffect(() => {
    if (!live) return undefined;
    const id = setInterval(() => {
      if (running.current) return;
      running.current = true;
      void Promise.resolve(ref.current()).finally(() => {
        running.current = false;
      });
    }, LIVE_INTERVAL_MS);
    return () => clearInterval(id);
  }, [live]);
}

export interface Route {
  readonly path: string[];
  readonly query: URLSearchParams;
}

function parseHash(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const [p = '', q = ''] = raw.split('?', 2);
  return { path: p.split('/').filter((x) => x !== '').map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function runHref(traceId: string, span?: string | null, detection?: string | null): string {
  const q = new URLSearchParams();
  if (span) q.set('span', span);
  if (detection) q.set('detection', detection);
  const s = q.toString();
  return `#/runs/${encodeURIComponent(traceId)}${s === '' ? '' : `?${s}`}`;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
