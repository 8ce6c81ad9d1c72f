import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failureScore as standingScore } from '../../../src/detectors/failure-score.js';
import { createDetectors } from '../../../src/detectors/registry.js';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';
import { toSemanticTrace } from '../../../src/semantic/mapper.js';
import { pipelineVersion } from '../../../src/stages/pipeline-version.js';
import { analyzeRun } from '../../../eval/analyze.js';
import { STATUS_ERROR, type OtlpSpan } from '../../../eval/otlp.js';
import {
  AGENT_NAME,
  BASE_MS,
  GAP_MS,
  LLM_DURATION_MS,
  TOOL_DURATION_MS,
  USER_TURN_MS,
  convertRun,
  datasetDir,
  loadDataset,
  parseSplit,
  splitOf,
  succeeded,
  toolError,
  type TauRun,
} from '../../../eval/tau-bench.js';

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
}

function spansOf(run: ReturnType<typeof convertRun>): OtlpSpan[] {
  return run.request.resourceSpans[0]!.scopeSpans[0]!.spans;
}

const ms = (n: number) => String(BigInt(n) * 1_000_000n);

/** A tiny airline run: a lookup, a failed booking, a successful retry, then a reply and the user's stop. */
const run: TauRun = {
  task_id: 3,
  trial: 1,
  reward: '0.0',
  info: "{'task': {'user_id': 'mia_li_3668'}}",
  traj: [
    { role: 'system', content: '# Airline Agent Policy\nYou can book, modify, or cancel flight reservations.' },
    { role: 'user', content: 'Hi, I want to book flight HAT136 on May 20. My user id is mia_li_3668.' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_user_details', arguments: '{"user_id":"mia_li_3668"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', name: 'get_user_details', content: '{"name": {"first_name": "Mia"}, "payment_methods": {}}' },
    {
      role: 'assistant',
      content: 'Let me book that.',
      tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'book_reservation', arguments: '{"flight":"HAT136"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_2', name: 'book_reservation', content: 'Error: not enough seats on flight HAT136' },
    { role: 'assistant', content: 'Sorry, flight HAT136 is full. Would another flight do?' },
    { role: 'user', content: 'No thanks. ###STOP###' },
  ],
};

describe('convertRun: one tau-bench run as an OTel GenAI trace', () => {
  const converted = convertRun(run, 'task3/trial1');
  const spans = spansOf(converted);
  const [root, llm1, tool1, llm2, tool2, llm3] = spans;

  it('makes a root invoke_agent span, a chat span per assistant message and a tool span per call, all children of the root', () => {
    expect(spans.map((s) => s.name)).toEqual([
      `invoke_agent ${AGENT_NAME}`,
      'chat gpt-4o',
      'execute_tool get_user_details',
      'chat gpt-4o',
      'execute_tool book_reservation',
      'chat gpt-4o',
    ]);
    expect(root!.parentSpanId).toBeUndefined();
    for (const s of spans.slice(1)) expect(s.parentSpanId).toBe(root!.spanId);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([converted.traceId]));
    expect(converted.chatSpanIds).toEqual([llm1!.spanId, llm2!.spanId, llm3!.spanId]);
    expect(converted.toolSpanIds.get('call_2')).toBe(tool2!.spanId);
    expect(attrs(root!)).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': AGENT_NAME, 'gen_ai.conversation.id': 'task3/trial1' });
    expect(converted.request.resourceSpans[0]!.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'airline-agent' } }]);
  });

  it('records the model call as the GenAI conventions do, with no token usage', () => {
    const a = attrs(llm2!);
    expect(a).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai' });
    expect(Object.keys(a).filter((k) => k.startsWith('gen_ai.usage.'))).toEqual([]);
    // The input is everything sent so far: policy, user turn, the earlier call and its tool answer.
    const input = JSON.parse(a['gen_ai.input.messages'] as string) as { role: string; parts: { type: string }[] }[];
    expect(input.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(input[1]).toEqual({ role: 'user', parts: [{ type: 'text', content: run.traj[1]!.content }] });
    expect(input[2]).toEqual({ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_user_details', arguments: { user_id: 'mia_li_3668' } }] });
    expect(input[3]).toEqual({ role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: run.traj[3]!.content }] });
    expect(JSON.parse(a['gen_ai.output.messages'] as string)).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Let me book that.' },
          { type: 'tool_call', id: 'call_2', name: 'book_reservation', arguments: { flight: 'HAT136' } },
        ],
        finish_reason: 'tool_call',
      },
    ]);
    expect(JSON.parse(attrs(llm3!)['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: run.traj[6]!.content }], finish_reason: 'stop' },
    ]);
  });

  it('records tool calls with their arguments and answers, ERROR only for the tool API’s "Error:" answers', () => {
    expect(attrs(tool1!)).toEqual({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_user_details',
      'gen_ai.tool.type': 'function',
      'gen_ai.tool.call.id': 'call_1',
      'gen_ai.tool.call.arguments': '{"user_id":"mia_li_3668"}',
      'gen_ai.tool.call.result': run.traj[3]!.content,
    });
    expect(tool1!.status).toBeUndefined();
    expect(tool2!.status).toEqual({ code: STATUS_ERROR, message: 'Error: not enough seats on flight HAT136' });
    expect(spans.filter((s) => s.status !== undefined)).toEqual([tool2]);
    expect(toolError('')).toBeNull();
    expect(toolError('{"error": "x"}')).toBeNull();
    expect(toolError('Error: payment method not found')).toBe('Error: payment method not found');
  });

  it('synthesises monotonic timestamps: user turns, fixed model and tool durations, the root spanning the run', () => {
    const t1 = BASE_MS + USER_TURN_MS;
    expect([llm1!.startTimeUnixNano, llm1!.endTimeUnixNano]).toEqual([ms(t1), ms(t1 + LLM_DURATION_MS)]);
    const t2 = t1 + LLM_DURATION_MS + GAP_MS;
    expect([tool1!.startTimeUnixNano, tool1!.endTimeUnixNano]).toEqual([ms(t2), ms(t2 + TOOL_DURATION_MS)]);
    const children = spans.slice(1);
    for (let i = 1; i < children.length; i++) expect(BigInt(children[i]!.startTimeUnixNano)).toBeGreaterThan(BigInt(children[i - 1]!.endTimeUnixNano));
    expect(root!.startTimeUnixNano).toBe(ms(BASE_MS));
    // The user's last turn comes after the last reply.
    expect(BigInt(root!.endTimeUnixNano)).toBe(BigInt(llm3!.endTimeUnixNano) + BigInt(GAP_MS + USER_TURN_MS) * 1_000_000n);
  });

  it('decodes with the project decoder into the semantic view detectors read', () => {
    const { spans: canonical, rejected } = decodeOtlpJson(converted.request, { tenantId: 't', receivedAtMs: 0 });
    expect(rejected).toEqual([]);
    const semantic = toSemanticTrace('t', converted.traceId, canonical).spans;
    const byId = new Map(semantic.map((s) => [s.spanId, s]));
    expect(byId.get(root!.spanId)).toMatchObject({ operation: 'invoke_agent', agentName: AGENT_NAME });
    expect(byId.get(llm2!.spanId)).toMatchObject({ operation: 'chat', model: 'gpt-4o', provider: 'openai', inputTokens: null, outputTokens: null });
    expect(byId.get(llm2!.spanId)!.prompt).toContain('Hi, I want to book flight HAT136');
    expect(byId.get(llm3!.spanId)!.completion).toContain('flight HAT136 is full');
    expect(byId.get(tool2!.spanId)).toMatchObject({
      operation: 'execute_tool',
      toolName: 'book_reservation',
      toolArguments: '{"flight":"HAT136"}',
      toolResult: 'Error: not enough seats on flight HAT136',
      isError: true,
    });
  });

  it('is deterministic', () => {
    expect(JSON.stringify(convertRun(run, 'task3/trial1').request)).toBe(JSON.stringify(converted.request));
    expect(convertRun(run, 'task3/trial2').traceId).not.toBe(converted.traceId);
  });

  it('goes through the analysis path: the failed booking is a tool failure caused by the model call that asked for it, low since the agent told the user', () => {
    const { detections, failureScore } = analyzeRun(converted.request, createDetectors(), pipelineVersion());
    const failure = detections.find((d) => d.detectionType === 'tool_failure');
    expect(failure).toMatchObject({ detectorId: 'span_errors', severity: 'low', agent: AGENT_NAME });
    expect(failure!.evidence.some((e) => e.description.startsWith('handled: the agent told the user'))).toBe(true);
    expect(failure!.affectedSpanIds).toEqual([llm2!.spanId, tool2!.spanId]);
    // The run's score is the API's: the failure score of its standing detections.
    expect(failureScore).toBe(standingScore(detections.filter((d) => d.subsumedBy === null)));
    expect(failureScore).toBeGreaterThan(standingScore([]));
  });
});

describe('tau-bench split and loading', () => {
  it('splits by task id: even → tune, odd → report', () => {
    expect([0, 1, 2, 3, 48, 49].map(splitOf)).toEqual(['tune', 'report', 'tune', 'report', 'tune', 'report']);
  });

  it('reads the split from --split, report by default', () => {
    expect(parseSplit([])).toBe('report');
    expect(parseSplit(['--json'])).toBe('report');
    expect(parseSplit(['--split', 'tune'])).toBe('tune');
    expect(parseSplit(['--split=report', '--json'])).toBe('report');
    expect(() => parseSplit(['--split', 'all'])).toThrow(/--split takes tune or report/);
    expect(() => parseSplit(['--split'])).toThrow(/--split takes tune or report/);
  });

  it('reads rewards given as numbers or text', () => {
    expect([succeeded(1), succeeded('1.0'), succeeded(0), succeeded('0.0')]).toEqual([true, true, false, false]);
    expect(() => succeeded('n/a')).toThrow(/not a number/);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'tau-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads runs with ids, halves and labels, sorted by task and trial', () => {
    const runs: TauRun[] = [
      { ...run, task_id: 4, trial: 0, reward: 1.0 },
      { ...run, task_id: 3, trial: 1, reward: '0.0' },
      { ...run, task_id: 3, trial: 0, reward: '1.0' },
    ];
    writeFileSync(path.join(dir, 'gpt-4o-airline.json'), JSON.stringify(runs));
    const loaded = loadDataset(dir);
    expect(loaded.map((r) => [r.id, r.split, r.succeeded])).toEqual([
      ['task3/trial0', 'report', true],
      ['task3/trial1', 'report', false],
      ['task4/trial0', 'tune', true],
    ]);
    expect(loadDataset(path.join(dir, 'gpt-4o-airline.json'))).toHaveLength(3);
  });

  it('resolves the dataset directory from the env or next to the repo, and fails clearly when missing', () => {
    expect(datasetDir('/r/main', {})).toBe('/r/shared/datasets/tau-bench-airline');
    expect(datasetDir('/r/main', { TRACEFOLD_TAU_BENCH_DIR: '/data/tau' })).toBe('/data/tau');
    expect(() => loadDataset('/nonexistent/tau-bench-airline')).toThrow(/tau-bench dataset not found in \/nonexistent\/tau-bench-airline/);
  });
});
