/**
 * State corruption: the agent state JSON (SemanticSpan.state) of one agent, read in span
 * order, gets worse from one snapshot to the next. Signals, each between two successive
 * parsable states of the same agent:
 * - a field present before is gone (nested fields compared by dotted path);
 * - a field changes its JSON type (string, number, boolean, object, array; null is
 *   compatible with anything);
 * - a field that looks monotonic by name (step, count, counter, version, progress,
 *   iteration, turn, round, revision, seq) goes down;
 * - a status field (status, phase, stage) moves backwards in the lifecycle
 *   pending < in_progress < complete;
 * and a state that no longer parses after parsable ones.
 *
 * Thresholds: `minLostFields` lost fields before a loss alone is reported; `maxDepth`
 * levels of nesting compared. Severity is high for type changes, backwards movement and
 * unparsable state, medium for lost fields alone.
 *
 * Blind spots: states that legitimately drop optional fields or reset counters at a new
 * task look the same; corrupted values of the right type (a wrong string) are not seen;
 * spans without an agent name or id are grouped together as one anonymous agent.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SemanticSpan } from '../semantic/semantic-span.js';
import type { DetectorModule, Finding } from './detector.js';
import { clamp01 } from './detector.js';

const configSchema = z.object({
  /** Fields that must disappear between two states before a loss alone is reported. */
  minLostFields: z.number().int().min(1).max(1000),
  /** Nesting levels compared (1 = top-level fields only). */
  maxDepth: z.number().int().min(1).max(10),
  /** Report a state that stops parsing as JSON after parsable states. */
  reportUnparsable: z.boolean(),
});
type StateCorruptionConfig = z.infer<typeof configSchema>;

const MONOTONIC_WORDS = 'step|count|counter|version|progress|iteration|turn|round|revision|seq|sequence';
/** `step`, `step_count`, `loop-counter`: the word alone or after a separator. */
const MONOTONIC_SNAKE = new RegExp(`(^|[_-])(${MONOTONIC_WORDS})s?$`, 'i');
/** `stepCount`, `retryCounter`: the word as the last camel-case part. */
const MONOTONIC_CAMEL = new RegExp(`[a-z0-9](${MONOTONIC_WORDS.replace(/(^|\|)([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase())})s?$`);

function looksMonotonic(key: string): boolean {
  return MONOTONIC_SNAKE.test(key) || MONOTONIC_CAMEL.test(key);
}
const STATUS_KEY = /^(status|phase|stage|lifecycle)$/i;

/** Lifecycle rank of a status value; undefined when the value is not a known stage. */
const LIFECYCLE: Readonly<Record<string, number>> = {
  pending: 0,
  queued: 0,
  todo: 0,
  new: 0,
  created: 0,
  not_started: 0,
  waiting: 0,
  in_progress: 1,
  running: 1,
  active: 1,
  started: 1,
  working: 1,
  processing: 1,
  complete: 2,
  completed: 2,
  done: 2,
  finished: 2,
  success: 2,
  succeeded: 2,
};

function lifecycleRank(value: string): number | undefined {
  return LIFECYCLE[value.trim().toLowerCase().replace(/[\s-]+/g, '_')];
}

type Kind = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';

function kindOf(v: unknown): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return 'string';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return kindOf(v) === 'object';
}

/** Field path → value, for objects nested up to `depth` levels. */
function flatten(value: Record<string, unknown>, depth: number, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const key of Object.keys(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const v = value[key];
    out.set(path, v);
    if (depth > 1 && isRecord(v)) flatten(v, depth - 1, path, out);
  }
  return out;
}

interface Issue {
  readonly kind: 'lost_fields' | 'type_change' | 'monotonic_decrease' | 'status_backwards' | 'unparsable';
  readonly description: string;
  readonly spanIds: readonly string[];
  readonly data: unknown;
}

function compare(prev: SemanticSpan, cur: SemanticSpan, a: Map<string, unknown>, b: Map<string, unknown>, config: StateCorruptionConfig): Issue[] {
  const issues: Issue[] = [];
  const spanIds = [prev.spanId, cur.spanId];
  // A field under a lost parent is reported once, as the parent.
  const lost = [...a.keys()].filter((k) => !b.has(k) && a.get(k) !== null);
  const lostRoots = lost.filter((k) => !lost.some((other) => k.startsWith(`${other}.`)));
  if (lostRoots.length >= config.minLostFields) {
    issues.push({ kind: 'lost_fields', description: `state lost field(s) ${lostRoots.join(', ')}`, spanIds, data: { lost: lostRoots } });
  }
  for (const [key, before] of a) {
    if (!b.has(key)) continue;
    const after = b.get(key);
    const kb = kindOf(before);
    const ka = kindOf(after);
    if (kb !== ka && kb !== 'null' && ka !== 'null') {
      issues.push({ kind: 'type_change', description: `field ${key} changed type from ${kb} to ${ka}`, spanIds, data: { field: key, before, after } });
      continue;
    }
    const leaf = key.split('.').at(-1)!;
    if (kb === 'number' && ka === 'number' && looksMonotonic(leaf) && (after as number) < (before as number)) {
      issues.push({ kind: 'monotonic_decrease', description: `field ${key} went back from ${String(before)} to ${String(after)}`, spanIds, data: { field: key, before, after } });
    }
    if (kb === 'string' && ka === 'string' && STATUS_KEY.test(leaf)) {
      const rb = lifecycleRank(before as string);
      const ra = lifecycleRank(after as string);
      if (rb !== undefined && ra !== undefined && ra < rb) {
        issues.push({ kind: 'status_backwards', description: `field ${key} moved back from "${String(before)}" to "${String(after)}"`, spanIds, data: { field: key, before, after } });
      }
    }
  }
  return issues;
}

const CONFIDENCE: Readonly<Record<Issue['kind'], number>> = {
  lost_fields: 0.6,
  type_change: 0.75,
  monotonic_decrease: 0.7,
  status_backwards: 0.75,
  unparsable: 0.8,
};

export const stateCorruptionDetector: DetectorModule<StateCorruptionConfig> = {
  id: 'state_corruption',
  version: 1,
  configSchema,
  defaults: { minLostFields: 1, maxDepth: 3, reportUnparsable: true },
  create(config) {
    return (trace) => {
      const byAgent = new Map<string, SemanticSpan[]>();
      for (const span of trace.spans) {
        if (span.state === null || span.state.trim() === '') continue;
        const agent = span.agentName ?? span.agentId ?? '';
        const list = byAgent.get(agent);
        if (list === undefined) byAgent.set(agent, [span]);
        else list.push(span);
      }
      const findings: Finding[] = [];
      for (const [agent, spans] of byAgent) {
        const issues: Issue[] = [];
        let prev: { span: SemanticSpan; fields: Map<string, unknown> } | null = null;
        let reportedUnparsable = false;
        for (const span of spans) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(span.state!);
          } catch {
            if (prev !== null && config.reportUnparsable && !reportedUnparsable) {
              issues.push({
                kind: 'unparsable',
                description: 'state stopped parsing as JSON after parsable states',
                spanIds: [prev.span.spanId, span.spanId],
                data: { state: span.state!.slice(0, 200) },
              });
              reportedUnparsable = true;
            }
            continue;
          }
          if (!isRecord(parsed)) continue;
          const fields = flatten(parsed, config.maxDepth);
          if (prev !== null) issues.push(...compare(prev.span, span, prev.fields, fields, config));
          prev = { span, fields };
        }
        if (issues.length === 0) continue;
        const affected = [...new Set(issues.flatMap((i) => i.spanIds.slice(1)))];
        const kinds = [...new Set(issues.map((i) => i.kind))];
        const onlyLoss = kinds.every((k) => k === 'lost_fields');
        const base = Math.max(...kinds.map((k) => CONFIDENCE[k]));
        const who = agent === '' ? 'an unnamed agent' : `agent "${agent}"`;
        findings.push({
          detectionType: 'state_corruption',
          title: `State of ${who} corrupted: ${kinds.join(', ').replace(/_/g, ' ')}`,
          description:
            `Successive state snapshots of ${who} got worse: ${issues.map((i) => i.description).slice(0, 5).join('; ')}` +
            `${issues.length > 5 ? `; and ${issues.length - 5} more` : ''}. Later steps read this state and inherit the damage.`,
          confidence: clamp01(base + 0.05 * (kinds.length - 1) + 0.02 * (issues.length - 1)),
          severity: onlyLoss ? 'medium' : 'high',
          evidence: issues.map((i) => ({ description: i.description, spanIds: i.spanIds, data: { kind: i.kind, ...(i.data as object) } })),
          affectedSpanIds: affected,
          agent: agent === '' ? null : agent,
          suggestedFix:
            'Validate agent state against a schema on every write, merge updates instead of replacing the state, ' +
            'and reject writes that drop fields, change types or move counters and status backwards.',
          fingerprint: createHash('sha256').update(`${agent}\u0000${affected[0]!}`).digest('hex').slice(0, 16),
        });
      }
      return findings;
    };
  },
};
