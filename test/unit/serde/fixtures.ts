import type { AnyValue, CanonicalSpan, KeyValue } from '../../../src/model/span.js';
import type { Detection, FeedbackRecord, TenantRegistryEvent, TraceMetrics, TraceRecord } from '../../../src/model/outputs.js';

export const str = (value: string): AnyValue => ({ type: 'string', value });
export const int = (value: bigint): AnyValue => ({ type: 'int', value });
export const dbl = (value: number): AnyValue => ({ type: 'double', value });
export const empty: AnyValue = { type: 'empty' };
export const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

/** 2^62 + 12345: far beyond Number.MAX_SAFE_INTEGER, so any trip through a double would show. */
export const BIG = 2n ** 62n + 12_345n;

// A byte view in the middle of a larger buffer: encoding must respect its offset.
const backing = Uint8Array.of(9, 9, 0, 255, 1, 128, 9);
const bytesView = backing.subarray(2, 6);

/** Every AnyValue variant, nested arrays and kvlists included. */
export const allVariants: KeyValue[] = [
  kv('empty', empty),
  kv('string', str('héllo ☃ 𝄞')),
  kv('string.empty', str('')),
  kv('bool.true', { type: 'bool', value: true }),
  kv('bool.false', { type: 'bool', value: false }),
  kv('int.big', int(BIG)),
  kv('int.max', int(2n ** 63n - 1n)),
  kv('int.min', int(-(2n ** 63n))),
  kv('int.negative', int(-42n)),
  kv('int.zero', int(0n)),
  kv('double', dbl(3.141592653589793)),
  kv('double.negzero', dbl(-0)),
  kv('double.nan', dbl(Number.NaN)),
  kv('double.inf', dbl(Number.NEGATIVE_INFINITY)),
  kv('bytes', { type: 'bytes', value: bytesView }),
  kv('bytes.empty', { type: 'bytes', value: new Uint8Array(0) }),
  kv('array', {
    type: 'array',
    values: [
      str('a'),
      int(-BIG),
      empty,
      { type: 'array', values: [dbl(1.5), { type: 'kvlist', values: [kv('in', str('array'))] }] },
      { type: 'array', values: [] },
    ],
  }),
  kv('kvlist', {
    type: 'kvlist',
    values: [
      kv('nested', { type: 'kvlist', values: [kv('deep', { type: 'array', values: [int(1n), { type: 'bytes', value: Uint8Array.of(7) }] })] }),
      kv('dup', str('first')),
      kv('dup', str('second')),
      kv('none', { type: 'kvlist', values: [] }),
    ],
  }),
];

export const fullSpan: CanonicalSpan = {
  tenantId: 'acme',
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  parentSpanId: 'eee19b7ec3c1b173',
  traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  flags: 0x301,
  name: 'chat gpt-4o',
  kind: 3,
  startTimeUnixNano: 1_732_537_000_123_456_789n,
  endTimeUnixNano: 1_732_537_001_987_654_321n,
  attributes: allVariants,
  droppedAttributesCount: 4_294_967_295,
  events: [
    {
      timeUnixNano: 1_732_537_000_500_000_001n,
      name: 'gen_ai.content.prompt',
      attributes: [kv('gen_ai.prompt', str('hi'))],
      droppedAttributesCount: 1,
    },
    { timeUnixNano: 0n, name: 'empty', attributes: [], droppedAttributesCount: 0 },
  ],
  droppedEventsCount: 2,
  links: [
    {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceState: 'k=v',
      attributes: [kv('link.kind', str('follows')), kv('n', int(-7n))],
      droppedAttributesCount: 3,
      flags: 0xffffffff,
    },
  ],
  droppedLinksCount: 5,
  status: { code: 2, message: 'tool failed: timeout' },
  resource: {
    attributes: [kv('service.name', str('support-agent')), kv('host.cpus', int(8n))],
    droppedAttributesCount: 6,
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  },
  scope: {
    name: 'openinference.instrumentation.langchain',
    version: '0.1.2',
    attributes: [kv('scope.attr', { type: 'bool', value: true })],
    droppedAttributesCount: 7,
    schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
  },
  source: 'otlp-proto',
  receivedAtMs: 1_732_537_002_000,
};

export const minimalSpan: CanonicalSpan = {
  tenantId: 't',
  traceId: 'trace',
  spanId: 'root',
  parentSpanId: '',
  traceState: '',
  flags: 0,
  name: '',
  kind: 0,
  startTimeUnixNano: 0n,
  endTimeUnixNano: 0n,
  attributes: [],
  droppedAttributesCount: 0,
  events: [],
  droppedEventsCount: 0,
  links: [],
  droppedLinksCount: 0,
  status: { code: 0, message: '' },
  resource: { attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
  scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
  source: 'flat-spans',
  receivedAtMs: 0,
};

/** A span shaped like a typical LLM call: 30 attributes, mostly strings. */
export function typicalSpan(i = 0): CanonicalSpan {
  const attributes: KeyValue[] = [
    kv('gen_ai.operation.name', str('chat')),
    kv('gen_ai.system', str('openai')),
    kv('gen_ai.request.model', str('gpt-4o-2024-08-06')),
    kv('gen_ai.response.model', str('gpt-4o-2024-08-06')),
    kv('gen_ai.usage.input_tokens', int(1234n)),
    kv('gen_ai.usage.output_tokens', int(321n)),
    kv('gen_ai.request.temperature', dbl(0.2)),
    kv('gen_ai.request.max_tokens', int(4096n)),
    kv('gen_ai.response.finish_reasons', { type: 'array', values: [str('stop')] }),
    kv('gen_ai.response.id', str(`chatcmpl-${i}-AbCdEfGhIjKlMnOp`)),
    kv('gen_ai.agent.name', str('support-agent')),
    kv('gen_ai.agent.id', str('agent-7f3c')),
    kv('gen_ai.conversation.id', str('conv-000123')),
    kv('gen_ai.prompt', str('You are a helpful support agent. The customer asks: where is my order #12345? '.repeat(3))),
    kv('gen_ai.completion', str('Your order shipped yesterday and should arrive within two business days.')),
    kv('llm.is_streaming', { type: 'bool', value: false }),
    kv('http.response.status_code', int(200n)),
    kv('server.address', str('api.openai.com')),
    kv('server.port', int(443n)),
    kv('session.id', str('sess-42')),
    kv('user.id', str('user-9')),
    kv('langgraph.node', str('respond')),
    kv('langgraph.step', int(3n)),
    kv('openinference.span.kind', str('LLM')),
    kv('llm.token_count.prompt', int(1234n)),
    kv('llm.token_count.completion', int(321n)),
    kv('retry.count', int(0n)),
    kv('cost.usd', dbl(0.01234)),
    kv('tags', { type: 'array', values: [str('prod'), str('eu')] }),
    kv('metadata', { type: 'kvlist', values: [kv('region', str('eu-west-1')), kv('tier', str('gold'))] }),
  ];
  return {
    ...minimalSpan,
    tenantId: 'acme',
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: `span${i.toString(16).padStart(12, '0')}`,
    parentSpanId: 'eee19b7ec3c1b173',
    flags: 1,
    name: 'chat gpt-4o',
    kind: 3,
    startTimeUnixNano: 1_732_537_000_123_456_789n + BigInt(i),
    endTimeUnixNano: 1_732_537_001_987_654_321n + BigInt(i),
    attributes,
    status: { code: 1, message: '' },
    resource: {
      attributes: [kv('service.name', str('support-agent')), kv('telemetry.sdk.language', str('python')), kv('telemetry.sdk.version', str('1.27.0'))],
      droppedAttributesCount: 0,
      schemaUrl: '',
    },
    scope: { name: 'opentelemetry.instrumentation.openai', version: '0.33.0', attributes: [], droppedAttributesCount: 0, schemaUrl: '' },
    source: 'otlp-proto',
    receivedAtMs: 1_732_537_002_000,
  };
}

export const traceRecord: TraceRecord = {
  tenantId: 'acme',
  traceId: fullSpan.traceId,
  revision: 2,
  pipelineVersion: 'detectors@3+semantic@1',
  closeReason: 'analyze',
  closeRequestId: 'req-1',
  closedAtMs: 1_732_537_010_000,
  serviceName: 'support-agent',
  rootName: 'invoke_agent support',
  startTimeUnixNano: fullSpan.startTimeUnixNano,
  endTimeUnixNano: fullSpan.endTimeUnixNano,
  hasError: true,
  digest: 'a'.repeat(64),
  spans: [fullSpan, minimalSpan, typicalSpan(1)],
  truncated: true,
  orphanSpanIds: [minimalSpan.spanId],
  cycleSpanIds: [],
  detectionIds: ['det-1', 'det-2'],
};

export const detection: Detection = {
  id: 'det-1',
  tenantId: 'acme',
  traceId: fullSpan.traceId,
  revision: 0,
  pipelineVersion: 'detectors@3+semantic@1',
  detectorId: 'tool-loop',
  detectorVersion: 2,
  detectionType: 'tool_loop',
  title: 'Tool called in a loop',
  description: 'search_orders was called 7 times with the same arguments',
  confidence: 0.8732,
  confidenceTier: 'high',
  severity: 'high',
  evidence: [
    { description: 'identical calls', spanIds: ['a', 'b', 'c'], dataJson: '{"count":7,"args":{"q":"12345"}}' },
    { description: 'no progress', spanIds: [], dataJson: '{}' },
  ],
  affectedSpanIds: ['a', 'b', 'c'],
  agent: 'support-agent',
  suggestedFix: 'Cap tool retries.',
  live: true,
  primary: false,
  detectedAtMs: 1_732_537_005_000,
  subsumedBy: 'det-0',
};

export const metrics: TraceMetrics = {
  id: 'met-1',
  tenantId: 'acme',
  traceId: fullSpan.traceId,
  revision: 1,
  pipelineVersion: 'detectors@3+semantic@1',
  serviceName: 'support-agent',
  startTimeUnixNano: fullSpan.startTimeUnixNano,
  durationMs: 1864.197532,
  spanCount: 12,
  errorCount: 1,
  inputTokens: 9_007_199_254_740_991,
  outputTokens: 321,
  llmCallCount: 4,
  toolCallCount: 7,
  agents: ['support-agent', 'router'],
  models: ['gpt-4o'],
  criticalPathMs: 1500.25,
  criticalPathSpanIds: ['root', 'c1', 't3'],
  agentCount: 2,
  cachedInputTokens: 9_007_199_254_740_000,
  costUsd: 0.012345678,
  unpricedModels: [],
  priceTable: '2026-11-25',
  errorRate: 1 / 12,
  toolErrorCount: 1,
  toolErrorRate: 1 / 7,
  retryCount: 2,
  retryRate: 2 / 7,
  blastRadius: 2,
  filesWritten: ['src/a.ts', 'src/b.ts'],
};

/** Trace metrics whose cost is unknown: a model outside the price table. */
export const unpricedMetrics: TraceMetrics = { ...metrics, id: 'met-2', costUsd: null, unpricedModels: ['acme-llm-7'], models: ['acme-llm-7', 'gpt-4o'] };

export const feedback: FeedbackRecord = {
  id: 'fb-1',
  tenantId: 'acme',
  detectionId: 'det-1',
  traceId: fullSpan.traceId,
  feedbackType: 'false_positive',
  comment: 'the loop was intended',
  createdAtMs: 1_732_537_100_000,
  detectorId: 'loop',
};

export const tenantEvents: TenantRegistryEvent[] = [
  { type: 'tenant_created', tenantId: 'acme', name: 'Acme Corp', atMs: 1_700_000_000_000 },
  { type: 'api_key_created', tenantId: 'acme', keyId: 'key_abc', secretHash: 'f'.repeat(64), atMs: 1_700_000_000_001 },
  { type: 'api_key_revoked', tenantId: 'acme', keyId: 'key_abc', atMs: 1_700_000_000_002 },
  { type: 'tenant_settings_changed', tenantId: 'acme', atMs: 1_700_000_000_003, baselineSigma: 3.5, baselineMinSamples: null },
];
