/**
 * Key layout of the trace stage's window store. Every key starts with a kind byte and the
 * input partition, so one partition's state can be found (and dropped) on its own.
 * Tenant and trace ids are length-prefixed: ids are producer-chosen strings and may hold
 * any character.
 *
 *   w p traceRef                  → window meta (binary, window-meta.ts)
 *   s p traceRef spanId           → the span's raw record value, as it came from the log
 *   o p                           → partition clock: stream time and open windows (JSON); the
 *                                   runtime keeps the partition's offset under its own key
 *   l p traceRef                  → live detection state of the open window (JSON, live.ts)
 *   d p traceRef                  → the detections the last closed revision stands by, by
 *                                   identity (JSON), for withdrawing them when a newer
 *                                   revision closes; kept as long as the window's tombstone
 *   e p deadline(u64) traceRef    → expiry index of earlier versions; the deadlines now live
 *                                   in the metas and an in-memory heap (window-index.ts), and
 *                                   these entries are dropped when the partition is assigned
 */

import { str, u64 } from '../../log/store-keys.js';

const KIND = { window: 0x77, span: 0x73, expiry: 0x65, clock: 0x6f, live: 0x6c, standing: 0x64 } as const;

/** The (tenant, trace) part of a key, length-prefixed. */
export function traceRef(tenantId: string, traceId: string): Buffer {
  return Buffer.concat([str(tenantId), str(traceId)]);
}

function head(kind: number, partition: number): Buffer {
  return Buffer.from([kind, partition >> 8, partition & 0xff]);
}

export const windowKey = (p: number, ref: Buffer) => Buffer.concat([head(KIND.window, p), ref]);
export const spanKey = (p: number, ref: Buffer, spanId: string) => Buffer.concat([head(KIND.span, p), ref, str(spanId)]);
export const clockKey = (p: number) => head(KIND.clock, p);
export const liveKey = (p: number, ref: Buffer) => Buffer.concat([head(KIND.live, p), ref]);
export const standingKey = (p: number, ref: Buffer) => Buffer.concat([head(KIND.standing, p), ref]);
export const expiryKey = (p: number, deadlineMs: number, ref: Buffer) => Buffer.concat([head(KIND.expiry, p), u64(deadlineMs), ref]);

/** [gte, lt) bounds of every span key of one trace. */
export function spanRange(p: number, ref: Buffer): { gte: Buffer; lt: Buffer } {
  const gte = Buffer.concat([head(KIND.span, p), ref]);
  return { gte, lt: Buffer.concat([gte, Buffer.from([0xff, 0xff, 0xff])]) };
}

/** [gte, lt) bounds of every window meta of one partition. */
export function windowRange(p: number): { gte: Buffer; lt: Buffer } {
  return { gte: head(KIND.window, p), lt: head(KIND.window, p + 1) };
}

/** [gte, lt) bounds of expiry entries with deadline <= uptoMs. */
export function expiryRange(p: number, uptoMs: number): { gte: Buffer; lt: Buffer } {
  return { gte: head(KIND.expiry, p), lt: Buffer.concat([head(KIND.expiry, p), u64(uptoMs + 1)]) };
}

export function parseExpiryKey(key: Buffer): { deadlineMs: number; ref: Buffer } {
  return { deadlineMs: Number(key.readBigUInt64BE(3)), ref: key.subarray(11) };
}
