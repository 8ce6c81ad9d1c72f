/**
 * The semantic mapper on the payloads real producers sent (test/fixtures/producers/, captured
 * by the scripts of test/fixtures/python/compat/ and test/fixtures/js/vercel-ai-agent.ts with
 * the versions of requirements-compat.txt and package.json). What the API does not show of a
 * span, the tool call's arguments, is checked here: read from the call, never from the tool's
 * schema, so 4 cities are 4 different calls and the looping agent's calls are identical.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';
import { measureTrace } from '../../../src/measures/trace-metrics.js';
import { PRICE_TABLE } from '../../../src/measures/prices.js';
import { toSemanticSpan, toSemanticTrace } from '../../../src/semantic/mapper.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'producers');
const ctx = { tenantId: 't1', receivedAtMs: 1_700_000_000_000 };

/** Producers with tool spans, and the agent name each run carries. */
const PRODUCERS: Record<string, string> = {
  'openinference-openai': 'weather_agent',
  'traceloop-sdk': 'weather_agent',
  'langgraph-openinference': 'agent',
  'openai-agents': 'weather_agent',
  'agent-strace': 'weather_agent',
  'vercel-ai': 'weather_agent',
};

function mapped(file: string) {
  const result = decodeOtlpJson(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')), ctx);
  expect(result.rejected).toEqual([]);
  return result.spans.map((s) => ({ span: s, semantic: toSemanticSpan(s) }));
}

function toolCalls(file: string) {
  return mapped(file)
    .filter((m) => m.semantic.operation === 'execute_tool')
    .sort((a, b) => (a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : 1))
    .map((m) => ({ tool: m.semantic.toolName, args: m.semantic.toolArguments }));
}

describe('semantic mapping of captured producer payloads', () => {
  for (const [producer, agent] of Object.entries(PRODUCERS)) {
    describe(producer, () => {
      it('weather: 4 get_weather calls whose arguments are the 4 cities', () => {
        const calls = toolCalls(`${producer}-weather.json`);
        expect(calls.map((c) => c.tool)).toEqual(['get_weather', 'get_weather', 'get_weather', 'get_weather']);
        ['Paris', 'London', 'Tokyo', 'Berlin'].forEach((city, i) => expect.soft(calls[i]?.args ?? '', `call ${i}`).toContain(city));
        expect.soft(new Set(calls.map((c) => c.args)).size, 'four different argument values').toBe(4);
      });

      it('loop: 4 calls with identical, known arguments', () => {
        const calls = toolCalls(`${producer}-loop.json`);
        expect(calls).toHaveLength(4);
        expect.soft(calls[0]?.args ?? '').toContain('Paris');
        expect.soft(new Set(calls.map((c) => c.args)).size).toBe(1);
      });

      it(`agent name ${agent}`, () => {
        expect(mapped(`${producer}-weather.json`).map((m) => m.semantic.agentName)).toContain(agent);
      });
    });
  }

  // agent-strace's older `--format otlp`: LLM calls are events of the session's root span.
  describe('agent-strace --format otlp', () => {
    it('reads the model calls recorded as root-span events, the tools and their arguments', () => {
      const { spans } = decodeOtlpJson(JSON.parse(fs.readFileSync(path.join(DIR, 'agent-strace-otlp-weather.json'), 'utf8')), ctx);
      const trace = toSemanticTrace('t1', spans[0]!.traceId, spans);
      const calls = trace.spans.filter((s) => s.operation === 'chat');
      expect(calls).toHaveLength(5);
      expect(calls.every((c) => c.model === 'gpt-4o-mini' && c.agentName === 'weather_agent' && c.inputTokens === null)).toBe(true);
      const tools = trace.spans.filter((s) => s.operation === 'execute_tool');
      expect(tools.map((t) => t.toolName)).toEqual(['get_weather', 'get_weather', 'get_weather', 'get_weather']);
      expect(new Set(tools.map((t) => t.toolArguments)).size).toBe(4);
      // The root's call markers carry no content: no prompt is made up from them.
      expect(trace.spans.find((s) => s.parentSpanId === '')!.prompt).toBeNull();
      const measures = measureTrace(trace, PRICE_TABLE);
      expect(measures).toMatchObject({ llmCallCount: 5, models: ['gpt-4o-mini'] });
    });
  });
});
