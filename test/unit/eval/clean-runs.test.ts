import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { toSemanticTrace } from '../../../src/semantic/mapper.js';
import { pipelineVersion } from '../../../src/stages/pipeline-version.js';
import { analyzeRequest } from '../../../eval/analyze.js';
import { CLEAN_KINDS, DEFAULT_CLEAN_RUNS, generateCleanRuns } from '../../../eval/clean-runs.js';
import { seededRandom } from '../../support/seeded-random.js';

describe('generateCleanRuns', () => {
  const runs = generateCleanRuns();

  it('generates at least 200 runs of every kind', () => {
    expect(DEFAULT_CLEAN_RUNS).toBeGreaterThanOrEqual(200);
    expect(runs).toHaveLength(DEFAULT_CLEAN_RUNS);
    for (const kind of CLEAN_KINDS) expect(runs.filter((r) => r.kind === kind).length).toBeGreaterThanOrEqual(50);
    expect(new Set(runs.map((r) => r.traceId)).size).toBe(runs.length);
  });

  it('is deterministic for a seed and varies with it', () => {
    expect(JSON.stringify(generateCleanRuns(20, 7))).toBe(JSON.stringify(generateCleanRuns(20, 7)));
    expect(JSON.stringify(generateCleanRuns(20, 8))).not.toBe(JSON.stringify(generateCleanRuns(20, 7)));
    const r = seededRandom(1);
    const xs = [r(), r(), r()];
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(3);
  });

  it('has no error spans, decodes cleanly, and every agent declares its role', () => {
    for (const run of runs) {
      const { spans, rejected } = decodeOtlpJson(run.request, { tenantId: 't', receivedAtMs: 0 });
      expect(rejected).toEqual([]);
      const semantic = toSemanticTrace('t', run.traceId, spans);
      expect(semantic.spans.filter((s) => s.isError)).toEqual([]);
      for (const s of semantic.spans) {
        if (s.operation === 'chat') expect(s.agentRole, `${run.id} ${s.name}`).not.toBeNull();
      }
      // One root, everything else its child.
      expect(semantic.spans.filter((s) => s.parentSpanId === '')).toHaveLength(1);
    }
  });

  it('keeps prompts well inside the context window and token growth moderate', () => {
    for (const run of runs) {
      const { spans } = decodeOtlpJson(run.request, { tenantId: 't', receivedAtMs: 0 });
      const chats = toSemanticTrace('t', run.traceId, spans).spans.filter((s) => s.operation === 'chat');
      const byAgent = new Map<string, number[]>();
      for (const c of chats) {
        expect(c.inputTokens).toBeLessThan(20_000);
        byAgent.set(c.agentName!, [...(byAgent.get(c.agentName!) ?? []), c.inputTokens!]);
      }
      for (const tokens of byAgent.values()) expect(Math.max(...tokens) / tokens[0]!).toBeLessThan(3);
    }
  });

  it('every hand-off target acts after its hand-off', () => {
    const handoffsByKind = new Map<string, number>();
    for (const run of runs) {
      const { spans } = decodeOtlpJson(run.request, { tenantId: 't', receivedAtMs: 0 });
      const semantic = toSemanticTrace('t', run.traceId, spans).spans;
      semantic.forEach((s, i) => {
        if (s.operation !== 'handoff') return;
        handoffsByKind.set(run.kind, (handoffsByKind.get(run.kind) ?? 0) + 1);
        const target = /^handoff to (\S+)$/.exec(s.name)?.[1];
        expect(target, `${run.id}: hand-off span "${s.name}" names no target`).toBeDefined();
        const acts = semantic.slice(i + 1).some((later) => later.agentName === target && later.operation !== 'handoff');
        expect(acts, `${run.id}: ${target} does not act after "${s.name}"`).toBe(true);
      });
    }
    // Not vacuous: the multi-agent kinds hand off in every run (coder-terminal in most).
    const byKind = (kind: string) => runs.filter((r) => r.kind === kind).length;
    expect(handoffsByKind.get('multi-agent-handoff')).toBeGreaterThanOrEqual(2 * byKind('multi-agent-handoff'));
    expect(handoffsByKind.get('coder-terminal')).toBeGreaterThan(0);
  });

  it('is not blind: a clean run with a failed tool call gets a detection', () => {
    const run = structuredClone(runs.find((r) => r.kind === 'coder-terminal')!);
    const terminal = run.request.resourceSpans[0]!.scopeSpans[0]!.spans.find((s) => s.name === 'execute_tool terminal')!;
    terminal.status = { code: 2, message: 'exit code 1' };
    const detections = analyzeRequest(run.request, createDetectors(), pipelineVersion());
    expect(detections.some((d) => d.detectorId === 'span_errors' && d.affectedSpanIds.includes(terminal.spanId))).toBe(true);
  });
});
