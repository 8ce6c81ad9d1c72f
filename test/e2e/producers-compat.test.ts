/**
 * The producer compatibility suite: the instrumentation agent teams already run, unchanged,
 * exporting to a live tracefold. Each producer (scripts under test/fixtures/python/compat/,
 * versions pinned in test/fixtures/python/requirements-compat.txt) runs three agents against
 * a fake OpenAI-compatible model server (fake_openai.py: no network):
 *
 *   weather  get_weather for 4 different cities, then an answer  -> no detection at all
 *   loop     get_weather({"city": "Paris"}) 4 times              -> loop
 *   raise    lookup_order raises OrderServiceError               -> tool_failure
 *
 * and the test reads back the trace tree, agent names, model, tokens and tool names through the
 * API, and the detections. Each producer is configured as its docs tell a user (OTLP/HTTP to
 * /v1/traces with the tenant's API key as a bearer token; pisama.auto by PISAMA_ENDPOINT and
 * PISAMA_API_KEY).
 *
 * Needs .cache/python-compat-venv (scripts/python-env.sh, or TRACEFOLD_COMPAT_PYTHON). Without
 * it the suite is skipped with a warning, except under CI (CI set, or TRACEFOLD_REQUIRE_PYTHON=1),
 * where it fails.
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVercelAgent } from '../fixtures/js/vercel-ai-agent.js';
import { pythonEnvironment, ROOT } from '../support/python.js';
import { createTenant, request, startServer, type TestServer } from '../support/server.js';

const root = ROOT;
const { python: PYTHON, available: AVAILABLE, skip: SKIP } = pythonEnvironment('compat', 'the producer compatibility suite');
const DIR = path.join(root, 'test', 'fixtures', 'python', 'compat');

type Scenario = 'weather' | 'loop' | 'raise';
const SCENARIOS: readonly Scenario[] = ['weather', 'loop', 'raise'];

interface Producer {
  readonly id: string;
  readonly script: string;
  /** The agent name a user sees for the run; null where the producer records none. */
  readonly agent: string | null;
  /** Whether it records tool calls as spans (pisama.auto traces LLM calls only). */
  readonly tools: boolean;
  /** Whether its LLM spans carry token counts. */
  readonly tokens: boolean;
  /** Exits non-zero on the raise scenario (the exception ends the run). */
  readonly raiseExits?: boolean;
  /**
   * The tool name the failing call carries. agent-strace 0.103.0 names a failed call's span
   * gen_ai.tool.call/error with gen_ai.tool.name=error: the real name is nowhere in its export.
   */
  readonly failedTool?: string;
  /** Traces a run makes, when not one (pisama.auto: one per LLM call). */
  readonly traceCount?: Record<Scenario, number>;
}

const PRODUCERS: readonly Producer[] = [
  { id: 'openinference-openai', script: 'openinference_openai.py', agent: 'weather_agent', tools: true, tokens: true },
  { id: 'traceloop-sdk', script: 'traceloop_sdk.py', agent: 'weather_agent', tools: true, tokens: true },
  { id: 'langgraph-openinference', script: 'langgraph_openinference.py', agent: 'agent', tools: true, tokens: true, raiseExits: true },
  { id: 'openai-agents', script: 'openai_agents.py', agent: 'weather_agent', tools: true, tokens: false },
  { id: 'agent-strace', script: 'agent_strace.py', agent: 'weather_agent', tools: true, tokens: false, failedTool: 'error' },
  { id: 'pisama-auto', script: 'pisama_auto.py', agent: null, tools: false, tokens: true, traceCount: { weather: 5, loop: 5, raise: 2 } },
  // In-process: the Vercel AI SDK with experimental_telemetry and the OpenTelemetry JS SDK (test/fixtures/js/vercel-ai-agent.ts).
  { id: 'vercel-ai', script: 'vercel-ai-agent.ts', agent: 'weather_agent', tools: true, tokens: true },
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runProducer(p: Producer, scenario: Scenario, env: Record<string, string>): Promise<Run> {
  if (p.id === 'vercel-ai') {
    try {
      const text = await runVercelAgent({
        baseURL: env.COMPAT_OPENAI_BASE_URL!,
        endpoint: env.COMPAT_OTLP_ENDPOINT!,
        apiKey: env.COMPAT_API_KEY!,
        serviceName: env.COMPAT_SERVICE_NAME!,
        scenario,
      });
      return { code: 0, stdout: text, stderr: '' };
    } catch (err) {
      return { code: 1, stdout: '', stderr: String(err) };
    }
  }
  // The SDKs read OTEL_* and TRACELOOP_* variables; keep the caller's out.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('TRACELOOP_') && !k.startsWith('PISAMA_')));
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [path.join(DIR, p.script)],
      { cwd: DIR, env: { ...base, ...env, COMPAT_SCENARIO: scenario, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
}

async function startFakeModel(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(PYTHON, [path.join(DIR, 'fake_openai.py'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fake_openai.py exited ${String(code)} before listening`)));
    lines.once('line', (line) => resolve(Number(/^listening (\d+)$/.exec(line)?.[1])));
  });
  return { child, port };
}

/** Every span of a presented tree, depth first. */
function flatten(nodes: any[]): any[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

describe.skipIf(SKIP)('producer compatibility: real instrumentation → tracefold', () => {
  let server: TestServer;
  let tenant: { tenantId: string; apiKey: string; token: string };
  let model: { child: ChildProcess; port: number };
  const runs = new Map<string, Run>();

  const service = (p: Producer, s: Scenario): string => `compat-${p.id}-${s}`;

  beforeAll(async () => {
    if (!AVAILABLE) throw new Error(`no Python environment at ${PYTHON}: run bash scripts/python-env.sh (CI requires it)`);
    server = await startServer();
    tenant = await createTenant(server.url, 'compat');
    model = await startFakeModel();
    const jobs = PRODUCERS.flatMap((p) => SCENARIOS.map((s) => ({ p, s })));
    // Two at a time: the machine is shared, and each producer is a Python process with heavy imports.
    const queue = [...jobs];
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
          const run = await runProducer(job.p, job.s, {
            COMPAT_OPENAI_BASE_URL: `http://127.0.0.1:${model.port}/v1`,
            COMPAT_OTLP_ENDPOINT: `${server.url}/v1/traces`,
            COMPAT_API_KEY: tenant.apiKey,
            COMPAT_SERVICE_NAME: service(job.p, job.s),
          });
          runs.set(`${job.p.id}/${job.s}`, run);
        }
      }),
    );
  }, 170_000);

  afterAll(async () => {
    model?.child.kill();
    await server?.stop();
  });

  async function traceOf(p: Producer, s: Scenario): Promise<any> {
    const run = runs.get(`${p.id}/${s}`)!;
    const expectedCode = s === 'raise' && p.raiseExits === true ? 1 : 0;
    expect(run.code, `${p.script} ${s}\n--- stderr\n${run.stderr}`).toBe(expectedCode);
    // Every export the producer makes is answered: traceloop-sdk configured by TRACELOOP_BASE_URL
    // also sends its metrics to /v1/metrics, and logs the status of a refused batch.
    expect.soft(run.stderr, 'an export the producer made was refused').not.toMatch(/Failed to export[^\n]*code: \d+/);
    let ids: string[] = [];
    await expect
      .poll(
        async () => {
          const list = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces?service=${service(p, s)}`, 'GET', { token: tenant.token });
          ids = (list.body?.items ?? []).map((t: any) => t.trace_id);
          return ids.length;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBeGreaterThanOrEqual(p.traceCount?.[s] ?? 1);
    // pisama.auto makes one trace per LLM call; the others one trace per run.
    const traces = [];
    for (const id of ids) {
      const analyzed = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${id}/analyze`, 'POST', { token: tenant.token });
      expect(analyzed.status, JSON.stringify(analyzed.body)).toBe(200);
      const detail = await request(`${server.url}/api/v1/tenants/${tenant.tenantId}/traces/${id}`, 'GET', { token: tenant.token });
      expect(detail.status, JSON.stringify(detail.body)).toBe(200);
      traces.push(detail.body);
    }
    return { ids, traces, spans: traces.flatMap((t) => flatten(t.spans)), detections: traces.flatMap((t) => t.detections.map((d: any) => d.detection_type)) };
  }

  // Pisama's own client, unchanged (pisama_client.py): authenticate, ingest, wait for the
  // analysis, read the trace and its detections, all through Client.ingest.
  describe('pisama Client', () => {
    const client: Producer = { id: 'pisama-client', script: 'pisama_client.py', agent: null, tools: false, tokens: false };
    async function ingest(scenario: Scenario): Promise<{ detections: string[]; accepted: number; submitted: number }> {
      const run = await runProducer(client, scenario, {
        COMPAT_OTLP_ENDPOINT: `${server.url}/v1/traces`,
        COMPAT_API_KEY: tenant.apiKey,
        COMPAT_SERVICE_NAME: service(client, scenario),
      });
      expect(run.code, `pisama_client.py ${scenario}\n--- stderr\n${run.stderr}`).toBe(0);
      return JSON.parse(run.stdout) as { detections: string[]; accepted: number; submitted: number };
    }

    it('ingests a normal run: every span accepted, no detection', async () => {
      const result = await ingest('weather');
      expect.soft(result.accepted).toBe(result.submitted);
      expect.soft(result.submitted).toBeGreaterThan(0);
      expect.soft(result.detections).toEqual([]);
    }, 60_000);

    it('ingests the looping run and reads back its loop detection', async () => {
      const result = await ingest('loop');
      expect.soft(result.detections).toContain('loop');
    }, 60_000);
  });

  for (const p of PRODUCERS) {
    describe(p.id, () => {
      // Soft assertions: each aspect (tree, agent, tokens, tools, detections) reports on its own.
      it('weather run: one trace, its agent, model, tokens and tool calls; no detection', async () => {
        const t = await traceOf(p, 'weather');
        if (p.id !== 'pisama-auto') expect.soft(t.ids).toHaveLength(1);
        // One root; everything else under it.
        if (p.id !== 'pisama-auto') expect.soft(t.traces[0].spans.filter((s: any) => s.span_id !== null)).toHaveLength(1);
        const llm = t.spans.filter((s: any) => s.operation === 'chat');
        expect.soft(llm.length, 'LLM spans read as chat').toBeGreaterThanOrEqual(5);
        expect.soft(new Set(llm.map((s: any) => s.model))).toEqual(new Set(['gpt-4o-mini']));
        if (p.tokens) {
          // 50/60/70/80/90 prompt tokens, 12 completion tokens a call (fake_openai.py).
          const withTokens = llm.filter((s: any) => s.input_tokens !== null);
          expect.soft(withTokens.map((s: any) => s.input_tokens as number).sort((a: number, b: number) => a - b).slice(0, 5)).toEqual([50, 60, 70, 80, 90]);
          expect.soft(withTokens.every((s: any) => s.output_tokens === 12)).toBe(true);
          // openinference_openai.py streams its last call without stream_options.include_usage:
          // that call's tokens are unknown, not 0.
          if (p.id === 'openinference-openai') expect.soft(llm.length - withTokens.length, 'the stream without usage has null tokens').toBe(1);
          expect.soft(llm.filter((s: any) => s.input_tokens === 0 || s.output_tokens === 0), 'no call shows 0 tokens').toEqual([]);
        } else {
          // Not recorded by the producer: unknown, never 0.
          expect.soft(llm.every((s: any) => s.input_tokens === null && s.output_tokens === null), 'unknown tokens are null').toBe(true);
        }
        if (p.agent !== null) expect.soft(t.spans.map((s: any) => s.agent)).toContain(p.agent);
        if (p.tools) {
          const tools = t.spans.filter((s: any) => s.operation === 'execute_tool');
          expect.soft(tools.map((s: any) => s.tool)).toEqual(['get_weather', 'get_weather', 'get_weather', 'get_weather']);
        }
        expect.soft(t.detections, 'no false detection on a normal run').toEqual([]);
      });

      if (p.tools) {
        it('loop run: 4 identical tool calls give a loop detection', async () => {
          const t = await traceOf(p, 'loop');
          expect.soft(t.spans.filter((s: any) => s.operation === 'execute_tool').map((s: any) => s.tool)).toEqual(['get_weather', 'get_weather', 'get_weather', 'get_weather']);
          expect.soft(t.detections).toContain('loop');
        });

        it('raise run: the raising tool gives tool_failure, matched on its own exception only', async () => {
          const t = await traceOf(p, 'raise');
          const failed = t.spans.filter((s: any) => s.operation === 'execute_tool' && s.status.code === 2);
          expect.soft(failed.map((s: any) => s.tool)).toEqual([p.failedTool ?? 'lookup_order']);
          expect.soft(t.detections).toContain('tool_failure');
          // The exception says neither; words in library frames of a traceback must not count.
          expect.soft(t.detections.filter((d: string) => d === 'timeout' || d === 'service_error')).toEqual([]);
        });
      }
    });
  }
});
