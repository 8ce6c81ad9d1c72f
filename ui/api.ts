/**
 * The public HTTP API, as the UI reads it. The token lives in sessionStorage for the tab's
 * session only; it travels in the Authorization header, never in a URL.
 */
export interface Session {
  readonly token: string;
  readonly tenantId: string;
  readonly expiresAt: number;
}

const KEY = 'tracefold.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && typeof s.tenantId === 'string' && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Called when the API answers 401: the token expired or its key was revoked. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

async function call<T>(path: string, init: RequestInit & { token?: string }): Promise<{ body: T; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    if (res.status === 401 && init.token !== undefined) onUnauthorized();
    const message = typeof body === 'object' && body !== null && 'message' in body ? String((body).message) : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return { body: body as T, headers: res.headers };
}

export async function signIn(apiKey: string): Promise<Session> {
  const { body } = await call<{ access_token: string; expires_in: number; tenant_id: string }>('/api/v1/auth/token', {
    method: 'POST',
    body: JSON.stringify({ api_key: apiKey }),
  });
  return { token: body.access_token, tenantId: body.tenant_id, expiresAt: Date.now() + body.expires_in * 1000 };
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function qs(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

/** GET or POST under /api/v1/tenants/:tenantId. */
export function tenantApi(session: Session) {
  const base = `/api/v1/tenants/${encodeURIComponent(session.tenantId)}`;
  return {
    get: <T>(path: string, q: Query = {}) => call<T>(`${base}${path}${qs(q)}`, { method: 'GET', token: session.token }),
    post: <T>(path: string, body: unknown) => call<T>(`${base}${path}`, { method: 'POST', token: session.token, body: JSON.stringify(body) }),
  };
}

export type Api = ReturnType<typeof tenantApi>;

export interface TraceListItem {
  trace_id: string;
  revision: number;
  service_name: string;
  root_name: string;
  closed_at: string | null;
  start_time: string | null;
  duration_ms: number | null;
  span_count: number;
  has_error: boolean;
  agents: string[];
  models: string[];
  cost_usd: number | null;
  failure_count: number;
  failure_score: number;
  detection_types: string[];
  max_severity: string | null;
}

export interface Feedback {
  id: string;
  detection_id: string | null;
  feedback_type: string;
  comment: string;
  created_at: string;
}

export interface Detection {
  id: string;
  trace_id: string;
  revision: number;
  detection_type: string;
  detector: { id: string; version: string };
  pipeline_version: string;
  title: string;
  description: string;
  confidence: number;
  confidence_tier: string;
  severity: string;
  evidence: { description: string; span_ids: string[]; data: unknown }[];
  affected_span_ids: string[];
  agent: string | null;
  suggested_fix: string;
  live: boolean;
  primary: boolean;
  subsumed_by: string | null;
  detected_at: string;
  feedback: Feedback[];
}

export interface SpanNode {
  span_id: string | null;
  parent_span_id?: string | null;
  name: string;
  synthetic?: true;
  start_time_unix_nano?: string;
  end_time_unix_nano?: string;
  start_time?: string;
  end_time?: string;
  duration_ms?: number;
  status?: { code: number; message: string };
  operation?: string | null;
  agent?: string | null;
  model?: string | null;
  tool?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  attributes?: Record<string, unknown>;
  events?: { name: string; time: string; attributes: Record<string, unknown> }[];
  links?: { trace_id: string; span_id: string; attributes: Record<string, unknown> }[];
  resource?: Record<string, unknown>;
  scope?: { name: string; version: string };
  orphan?: boolean;
  cycle?: boolean;
  children: SpanNode[];
}

export interface TraceDetail {
  trace_id: string;
  revision: number;
  pipeline_version: string;
  service_name: string;
  root_name: string;
  has_error: boolean;
  span_count: number;
  close_reason: string;
  truncated: boolean;
  closed_at: string;
  failure_score: number;
  metrics: Record<string, unknown> | null;
  detections: Detection[];
  spans: SpanNode[];
}
