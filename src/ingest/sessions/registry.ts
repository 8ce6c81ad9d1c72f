/**
 * The session registry as the routes use it: read from the views, written to
 * tracefold.sessions.v1 with read-your-writes, so a start followed at once by events (on
 * this process) finds the session.
 *
 * Another process may have registered the session a moment ago and this process's views
 * may not have read it yet; so before answering that a session does not exist, the views
 * are brought up to the registry's end as of now. The common path (the session is known)
 * costs one local read; only a miss pays for the catch-up.
 */
import type { IngestContext } from '../../http/context.js';
import { appendAndWait } from '../../http/write-through.js';
import { TOPICS } from '../../log/topics.js';
import { errors, TracefoldError } from '../../model/errors.js';
import { sessionKey, type SessionRecord } from '../../model/session.js';

export async function findSession(ctx: IngestContext, tenantId: string, sessionId: string): Promise<SessionRecord | null> {
  const known = await ctx.queries.session(tenantId, sessionId);
  if (known !== null) return known;
  await ctx.views.catchUp([TOPICS.sessions], ctx.readYourWritesTimeoutMs);
  return ctx.queries.session(tenantId, sessionId);
}

export async function writeSession(ctx: IngestContext, record: SessionRecord): Promise<void> {
  try {
    await appendAndWait(ctx, TOPICS.sessions, [
      { key: sessionKey(record.tenantId, record.sessionId), value: await ctx.codecs.session.encode(record), timestamp: record.updatedAtMs },
    ]);
  } catch (err) {
    if (err instanceof TracefoldError) throw err;
    throw errors.logUnavailable(err);
  }
}

/**
 * Requests for one session are handled one after another within a process, so streamed
 * events are numbered without gaps or repeats and an end cannot overtake the events sent
 * before it. (Across processes, a producer streams one session through one connection in
 * practice; events that carry ids are safe either way.)
 */
export class SessionLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(tenantId: string, sessionId: string, work: () => Promise<T>): Promise<T> {
    const key = `${tenantId}/${sessionId}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
