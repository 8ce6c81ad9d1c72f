/**
 * What the trace stage keeps per window, and its stored form.
 *
 * The meta is written once per touched window per batch, so its encoding is on the hot path:
 * a fixed binary layout (version byte, numbers, then length-prefixed strings) rather than
 * JSON. Metas written as JSON by earlier versions still decode: JSON starts with `{`, which
 * is never a version byte.
 */

export type WindowState = 'open' | 'closed' | 'forgotten';

export interface WindowMeta {
  tenantId: string;
  traceId: string;
  revision: number;
  /** closed: reopenable by late spans; forgotten: spans dropped, revision kept to stay unique. */
  state: WindowState;
  spanCount: number;
  /** Bytes of the raw record values held (absent in state written before the size cap). */
  byteCount?: number;
  /** Stream time at which the root span arrived; null (or absent) while none has. */
  rootArrivalMs?: number | null;
  /** Closed by the size cap: its spans are gone, and the next span starts revision n+1. */
  capped?: boolean;
  lastArrivalMs: number;
  closedAtMs: number;
  /** When stream time reaching it changes the window: close, forget, or drop the tombstone. */
  deadlineMs: number;
  /** Digest of the last session batch applied to the trace (resetWindow). */
  sessionDigest?: string;
  /** A session batch sent again unchanged: its records are passed over until its end marker. */
  skipRequestId?: string;
}

const VERSION = 1;
const JSON_START = 0x7b; // '{'
const STATES: readonly WindowState[] = ['open', 'closed', 'forgotten'];
const FLAG = { capped: 1, root: 2, sessionDigest: 4, skipRequestId: 8 } as const;
/** version, state, flags, revision u32, spanCount u32, then five float64 numbers. */
const FIXED_BYTES = 3 + 4 + 4 + 5 * 8;

function strBytes(s: string | undefined): number {
  return s === undefined ? 0 : 2 + Buffer.byteLength(s, 'utf8');
}

export function encodeWindowMeta(meta: WindowMeta): Buffer {
  const root = meta.rootArrivalMs ?? null;
  const size = FIXED_BYTES + strBytes(meta.tenantId) + strBytes(meta.traceId) + strBytes(meta.sessionDigest) + strBytes(meta.skipRequestId);
  const out = Buffer.allocUnsafe(size);
  let flags = 0;
  if (meta.capped === true) flags |= FLAG.capped;
  if (root !== null) flags |= FLAG.root;
  if (meta.sessionDigest !== undefined) flags |= FLAG.sessionDigest;
  if (meta.skipRequestId !== undefined) flags |= FLAG.skipRequestId;
  out[0] = VERSION;
  out[1] = STATES.indexOf(meta.state);
  out[2] = flags;
  let at = out.writeUInt32BE(meta.revision, 3);
  at = out.writeUInt32BE(meta.spanCount, at);
  at = out.writeDoubleBE(meta.byteCount ?? 0, at);
  at = out.writeDoubleBE(root ?? 0, at);
  at = out.writeDoubleBE(meta.lastArrivalMs, at);
  at = out.writeDoubleBE(meta.closedAtMs, at);
  at = out.writeDoubleBE(meta.deadlineMs, at);
  for (const s of [meta.tenantId, meta.traceId, meta.sessionDigest, meta.skipRequestId]) {
    if (s === undefined) continue;
    const length = out.write(s, at + 2, 'utf8');
    out.writeUInt16BE(length, at);
    at += 2 + length;
  }
  return out;
}

export function decodeWindowMeta(raw: Buffer): WindowMeta {
  if (raw[0] === JSON_START) return JSON.parse(raw.toString()) as WindowMeta;
  if (raw[0] !== VERSION || raw.length < FIXED_BYTES) throw new Error(`window meta of unknown layout (first byte ${raw[0]}, ${raw.length} bytes)`);
  const state = STATES[raw[1]!];
  if (state === undefined) throw new Error(`window meta with unknown state ${raw[1]}`);
  const flags = raw[2]!;
  let at = FIXED_BYTES;
  const readStr = (): string => {
    const length = raw.readUInt16BE(at);
    const s = raw.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
    return s;
  };
  const meta: WindowMeta = {
    tenantId: readStr(),
    traceId: readStr(),
    revision: raw.readUInt32BE(3),
    state,
    spanCount: raw.readUInt32BE(7),
    byteCount: raw.readDoubleBE(11),
    rootArrivalMs: (flags & FLAG.root) !== 0 ? raw.readDoubleBE(19) : null,
    capped: (flags & FLAG.capped) !== 0,
    lastArrivalMs: raw.readDoubleBE(27),
    closedAtMs: raw.readDoubleBE(35),
    deadlineMs: raw.readDoubleBE(43),
  };
  if ((flags & FLAG.sessionDigest) !== 0) meta.sessionDigest = readStr();
  if ((flags & FLAG.skipRequestId) !== 0) meta.skipRequestId = readStr();
  return meta;
}
