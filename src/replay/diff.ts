/**
 * The diff of a replay against what is in force: per trace, the detections the replay found
 * beside the ones the views hold, matched by what they are about (detector, type and the
 * spans they name) rather than by id, since a detector's version and the trace's revision
 * are part of an id. Counted per tenant and detector, with a few example trace ids each.
 */

/** What a diff needs of one detection. */
export interface DetectionSummary {
  readonly id: string;
  readonly detectorId: string;
  readonly detectionType: string;
  readonly severity: string;
  readonly confidence: number;
  readonly affectedSpanIds: readonly string[];
}

export interface TraceDetections {
  readonly tenantId: string;
  readonly traceId: string;
  /** The detections in force (the views'), and the replay's. */
  readonly current: readonly DetectionSummary[];
  readonly replayed: readonly DetectionSummary[];
}

export interface DiffCounts {
  added: number;
  removed: number;
  /** Found by both, with another severity or confidence. */
  changed: number;
  unchanged: number;
  /** Up to EXAMPLES trace ids each. */
  readonly examples: { added: string[]; removed: string[]; changed: string[] };
}

export interface ReplayDiff {
  readonly traces: number;
  /** Traces whose detections differ in any way. */
  readonly tracesChanged: number;
  readonly total: DiffCounts;
  /** tenant id → detector id → counts. */
  readonly byTenant: Record<string, Record<string, DiffCounts>>;
}

const EXAMPLES = 5;

function emptyCounts(): DiffCounts {
  return { added: 0, removed: 0, changed: 0, unchanged: 0, examples: { added: [], removed: [], changed: [] } };
}

function matchKey(d: DetectionSummary): string {
  return `${d.detectorId}\u0000${d.detectionType}\u0000${[...d.affectedSpanIds].sort().join('\u0001')}`;
}

/** Built one trace at a time, so a diff of many traces never holds them all. */
export class ReplayDiffBuilder {
  private traces = 0;
  private tracesChanged = 0;
  private readonly total = emptyCounts();
  private readonly byTenant: Record<string, Record<string, DiffCounts>> = {};

  add({ tenantId, traceId, current, replayed }: TraceDetections): void {
    this.traces++;
    const before = new Map<string, DetectionSummary[]>();
    for (const d of current) before.set(matchKey(d), [...(before.get(matchKey(d)) ?? []), d]);
    let differs = false;
    const count = (detectorId: string, kind: 'added' | 'removed' | 'changed' | 'unchanged') => {
      const tenant = (this.byTenant[tenantId] ??= {});
      for (const counts of [this.total, (tenant[detectorId] ??= emptyCounts())]) {
        counts[kind]++;
        if (kind !== 'unchanged' && counts.examples[kind].length < EXAMPLES && !counts.examples[kind].includes(traceId)) counts.examples[kind].push(traceId);
      }
      if (kind !== 'unchanged') differs = true;
    };
    for (const d of replayed) {
      const same = before.get(matchKey(d))?.shift();
      if (same === undefined) count(d.detectorId, 'added');
      else count(d.detectorId, same.severity === d.severity && same.confidence === d.confidence ? 'unchanged' : 'changed');
    }
    for (const left of before.values()) for (const d of left) count(d.detectorId, 'removed');
    if (differs) this.tracesChanged++;
  }

  result(): ReplayDiff {
    return { traces: this.traces, tracesChanged: this.tracesChanged, total: this.total, byTenant: this.byTenant };
  }
}

/** The diff as lines for a terminal. */
export function formatDiff(diff: ReplayDiff): string {
  const lines = [
    `${diff.traces} traces replayed, ${diff.tracesChanged} with other detections: ` +
      `${diff.total.added} added, ${diff.total.removed} removed, ${diff.total.changed} changed, ${diff.total.unchanged} unchanged`,
  ];
  for (const [tenantId, detectors] of Object.entries(diff.byTenant).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [detectorId, c] of Object.entries(detectors).sort(([a], [b]) => a.localeCompare(b))) {
      if (c.added + c.removed + c.changed === 0) continue;
      const examples = (['added', 'removed', 'changed'] as const)
        .filter((k) => c.examples[k].length > 0)
        .map((k) => `${k} e.g. ${c.examples[k].join(', ')}`)
        .join('; ');
      lines.push(`  ${tenantId} ${detectorId}: +${c.added} -${c.removed} ~${c.changed} (${examples})`);
    }
  }
  return lines.join('\n');
}
