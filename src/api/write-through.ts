/**
 * Read-your-writes: after appending, a request waits until its own views have consumed
 * what it appended, so the caller's next request sees it (DESIGN.md, "Views and API").
 */
import type { AppendResult } from '../log/port.js';
import type { AppContext } from './context.js';

export async function appendAndWait(
  ctx: AppContext,
  topic: string,
  records: Parameters<AppContext['log']['append']>[1],
): Promise<AppendResult[]> {
  const results = await ctx.log.append(topic, records);
  for (const r of results) await ctx.views.positions.waitFor(r.topic, r.partition, r.offset + 1, ctx.readYourWritesTimeoutMs);
  return results;
}
