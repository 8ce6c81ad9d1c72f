/**
 * Read-your-writes: after appending, a request waits until its own views have consumed
 * what it appended, so the caller's next request sees it.
 */
import type { AppendResult } from '../log/port.js';
import type { AppContext, IngestContext } from './context.js';

export async function appendAndWait(
  ctx: IngestContext,
  topic: string,
  records: Parameters<IngestContext['log']['append']>[1],
): Promise<AppendResult[]> {
  const results = await ctx.log.append(topic, records);
  for (const r of results) await ctx.views.positions.waitFor(r.topic, r.partition, r.offset + 1, ctx.readYourWritesTimeoutMs);
  return results;
}

/**
 * Appends to several topics as one unit (all or nothing: a tenant event and its audit
 * input never part), then waits until the views have read `visible` to its end.
 */
export async function appendAllAndWait(
  ctx: AppContext,
  records: readonly { readonly topic: string; readonly records: Parameters<AppContext['log']['append']>[1] }[],
  visible: readonly string[],
): Promise<void> {
  const unit = ctx.log.beginUnit(API_WRITER_GROUP);
  for (const { topic, records: list } of records) unit.append(topic, list);
  await unit.commit();
  await ctx.views.catchUp(visible, ctx.readYourWritesTimeoutMs);
}

/** Names the API's units to the log (a transactional id prefix in Kafka mode). */
const API_WRITER_GROUP = 'tracefold-api-writer';
