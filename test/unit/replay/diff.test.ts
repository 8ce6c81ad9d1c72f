import { describe, expect, it } from 'vitest';
import { formatDiff, ReplayDiffBuilder, type DetectionSummary } from '../../../src/replay/diff.js';

const d = (id: string, detectorId: string, spans: string[], severity = 'high', confidence = 0.8): DetectionSummary => ({
  id,
  detectorId,
  detectionType: detectorId,
  severity,
  confidence,
  affectedSpanIds: spans,
});

describe('replay diff', () => {
  it('matches detections by detector, type and spans, whatever their ids or span order', () => {
    const diff = new ReplayDiffBuilder();
    diff.add({ tenantId: 't', traceId: 'a', current: [d('old-1', 'loop', ['s1', 's2'])], replayed: [d('new-1', 'loop', ['s2', 's1'])] });
    expect(diff.result()).toMatchObject({ traces: 1, tracesChanged: 0, total: { added: 0, removed: 0, changed: 0, unchanged: 1 } });
  });

  it('counts added, removed and changed per tenant and detector, with example traces', () => {
    const diff = new ReplayDiffBuilder();
    diff.add({ tenantId: 't1', traceId: 'gone', current: [d('1', 'loop', ['s1'])], replayed: [] });
    diff.add({ tenantId: 't1', traceId: 'new', current: [], replayed: [d('2', 'retry_storm', ['s1'])] });
    diff.add({ tenantId: 't2', traceId: 'moved', current: [d('3', 'loop', ['s1'], 'high')], replayed: [d('4', 'loop', ['s1'], 'medium')] });
    diff.add({ tenantId: 't2', traceId: 'same', current: [], replayed: [] });
    const result = diff.result();
    expect(result).toMatchObject({ traces: 4, tracesChanged: 3, total: { added: 1, removed: 1, changed: 1, unchanged: 0 } });
    expect(result.byTenant.t1!.loop).toMatchObject({ removed: 1, examples: { removed: ['gone'] } });
    expect(result.byTenant.t1!.retry_storm).toMatchObject({ added: 1, examples: { added: ['new'] } });
    expect(result.byTenant.t2!.loop).toMatchObject({ changed: 1, examples: { changed: ['moved'] } });
    expect(formatDiff(result)).toBe(
      [
        '4 traces replayed, 3 with other detections: 1 added, 1 removed, 1 changed, 0 unchanged',
        '  t1 loop: +0 -1 ~0 (removed e.g. gone)',
        '  t1 retry_storm: +1 -0 ~0 (added e.g. new)',
        '  t2 loop: +0 -0 ~1 (changed e.g. moved)',
      ].join('\n'),
    );
  });

  it('counts a finding found twice on the same spans twice, and keeps at most five examples', () => {
    const diff = new ReplayDiffBuilder();
    for (let i = 0; i < 7; i++) diff.add({ tenantId: 't', traceId: `r${i}`, current: [d('a', 'loop', ['s']), d('b', 'loop', ['s'])], replayed: [d('c', 'loop', ['s'])] });
    const loop = diff.result().byTenant.t!.loop!;
    expect(loop).toMatchObject({ removed: 7, unchanged: 7 });
    expect(loop.examples.removed).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });
});
