import { describe, expect, it } from 'vitest';
import { decodeWindowMeta, encodeWindowMeta, type WindowMeta } from '../../../../src/stages/trace/window-meta.js';

const open: WindowMeta = {
  tenantId: 'acme',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  revision: 3,
  state: 'open',
  spanCount: 12,
  byteCount: 7_345,
  rootArrivalMs: null,
  capped: false,
  lastArrivalMs: 1_733_390_000_123,
  closedAtMs: 0,
  deadlineMs: 1_733_390_030_123,
};

describe('window meta codec', () => {
  it('round-trips every field, optional strings included', () => {
    const closed: WindowMeta = {
      ...open,
      tenantId: 'tenant/ünïcode ✓',
      state: 'closed',
      capped: true,
      rootArrivalMs: 1_733_390_000_001,
      closedAtMs: 1_733_390_005_001,
      sessionDigest: 'a'.repeat(64),
      skipRequestId: 'req-42',
    };
    expect(decodeWindowMeta(encodeWindowMeta(open))).toEqual(open);
    expect(decodeWindowMeta(encodeWindowMeta(closed))).toEqual(closed);
    expect(decodeWindowMeta(encodeWindowMeta({ ...open, state: 'forgotten' })).state).toBe('forgotten');
  });

  it('is much smaller than the JSON it replaces', () => {
    expect(encodeWindowMeta(open).length).toBeLessThan(Buffer.from(JSON.stringify(open)).length / 2);
  });

  it('still reads a meta stored as JSON by an earlier version', () => {
    const legacy = { tenantId: 'acme', traceId: 't1', revision: 1, state: 'closed', spanCount: 2, lastArrivalMs: 5, closedAtMs: 9, deadlineMs: 99 };
    expect(decodeWindowMeta(Buffer.from(JSON.stringify(legacy)))).toEqual(legacy);
  });

  it('refuses a value of an unknown layout instead of misreading it', () => {
    expect(() => decodeWindowMeta(Buffer.from([9, 0, 0]))).toThrow(/unknown layout/);
  });
});
