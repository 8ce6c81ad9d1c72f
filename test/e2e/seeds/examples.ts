/**
 * The seed documents' examples, copied verbatim (line breaks and all), so the conformance
 * tests run them as a reader of the document would. Sources: ../shared/seeds/ (README).
 */

/** Seed 002, Agenta "Tracing", section Examples. */
export const AGENTA_EXAMPLES = {
  ingestNestedTrace: `curl -X POST "$AGENTA_HOST/api/tracing/spans/ingest" \\
-H "Content-Type: application/json" \\
-H "Authorization: ApiKey $AGENTA_API_KEY" \\
-d '{
"traces": {
"f5a2efb40895881e938e2ebc070beca8": {
"spans": {
"workflow_v0": {
"trace_id": "f5a2efb40895881e938e2ebc070beca8",
"span_id": "15f3df0731995245",
"span_kind": "SPAN_KIND_SERVER",
"start_time": "2026-04-16T18:18:18.491929Z",
"end_time": "2026-04-16T18:18:20.415372Z",
"attributes": {
"ag": {
"type": {"trace": "invocation", "span": "workflow"},
"data": {"inputs": {"country": "France"}, "outputs": "Paris"}
}
},
"spans": {
"llm_call": {
"trace_id": "f5a2efb40895881e938e2ebc070beca8",
"span_id": "c8ae7f12d1b3e9a4",
"parent_id": "15f3df0731995245",
"start_time": "2026-04-16T18:18:18.800000Z",
"end_time": "2026-04-16T18:18:20.400000Z",
"attributes": {"ag.type.span": "llm"}
}
}
}
}
}
}
}'`,
  ingestNestedTraceResponse: {
"count": 2,
"links": [
{"trace_id": "f5a2efb40895881e938e2ebc070beca8", "span_id": "15f3df0731995245"},
{"trace_id": "f5a2efb40895881e938e2ebc070beca8", "span_id": "c8ae7f12d1b3e9a4"}
]
} as unknown,
  recordAnnotation: `curl -X POST "$AGENTA_HOST/api/simple/traces/" \\
-H "Content-Type: application/json" \\
-H "Authorization: ApiKey $AGENTA_API_KEY" \\
-d '{
"trace": {
"origin": "human",
"kind": "adhoc",
"channel": "api",
"data": {"outputs": {"score": 5, "comment": "Good response"}},
"references": {"evaluator": {"slug": "user-feedback"}},
"links": {
"invocation": {
"trace_id": "0af7651916cd43dd8448eb211c80319c",
"span_id": "b7ad6b7169203331"
}
}
}
}'`,
} as const;

/**
 * Seed 003, Cognipeer Console "Tracing API": each request body and answer as the document
 * prints it (JSON text, parsed by the test), in the document's order. The streaming
 * examples use the path parameter `:sessionId`; the answers say `sess-abc123`.
 */
export const COGNIPEER_EXAMPLES = {
  paths: {
    batch: '/api/client/v1/tracing/sessions',
    start: '/api/client/v1/tracing/sessions/stream/:sessionId/start',
    event: '/api/client/v1/tracing/sessions/stream/:sessionId/events',
    end: '/api/client/v1/tracing/sessions/stream/:sessionId/end',
    otlp: '/api/client/v1/traces',
  },
  batch: `{
"sessionId": "sess-abc123",
"threadId": "thread-456",
"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
"rootSpanId": "00f067aa0ba902b7",
"agent": {
"name": "research-agent",
"version": "1.0.0",
"model": "gpt-4"
},
"status": "completed",
"startedAt": "2025-01-15T10:00:00Z",
"endedAt": "2025-01-15T10:00:03Z",
"durationMs": 3500,
"summary": {
"totalInputTokens": 500,
"totalOutputTokens": 200,
"totalCachedInputTokens": 0
},
"events": [
{
"id": "evt-1",
"type": "llm_call",
"label": "Generate response",
"sequence": 1,
"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
"spanId": "b7ad6b7169203331",
"parentSpanId": "00f067aa0ba902b7",
"sections": [
{ "type": "input", "content": "User query..." },
{ "type": "output", "content": "Assistant response..." }
],
"inputTokens": 500,
"outputTokens": 200
}
]
}`,
  batchResponse: `{ "success": true, "sessionId": "sess-abc123", "eventsStored": 1 }`,
  start: `{
"threadId": "thread-456",
"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
"rootSpanId": "00f067aa0ba902b7",
"agent": { "name": "research-agent", "version": "1.0.0" },
"startedAt": "2025-01-15T10:00:00Z"
}`,
  startResponse: `{ "success": true, "sessionId": "sess-abc123", "status": "in_progress" }`,
  event: `{
"event": {
"id": "evt-2",
"type": "tool_call",
"label": "Search API",
"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
"spanId": "5b8aa5a2d2d3e13c",
"parentSpanId": "00f067aa0ba902b7",
"sections": [
{ "type": "input", "content": "{\\"query\\": \\"...\\"}" },
{ "type": "output", "content": "{\\"results\\": [...]}" }
],
"inputTokens": 50,
"outputTokens": 100
}
}`,
  eventResponse: `{ "success": true, "sessionId": "sess-abc123", "totalEvents": 2 }`,
  end: `{
"status": "completed",
"endedAt": "2025-01-15T10:00:03Z",
"durationMs": 3500,
"summary": {
"totalDurationMs": 3500,
"totalInputTokens": 500,
"totalOutputTokens": 200
}
}`,
  endResponse: `{ "success": true, "sessionId": "sess-abc123", "status": "completed", "durationMs": 3500 }`,
  otlp: `{
"resourceSpans": [
{
"resource": {
"attributes": [
{ "key": "service.name", "value": { "stringValue": "research-agent" } }
]
},
"scopeSpans": [
{
"scope": { "name": "agent-sdk", "version": "1.0.0" },
"spans": [
{
"traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
"spanId": "00f067aa0ba902b7",
"name": "agent_session:research-agent",
"startTimeUnixNano": "1736935200000000000",
"endTimeUnixNano": "1736935203500000000"
}
]
}
]
}
]
}`,
  otlpResponse: `{
"success": true,
"sessionsIngested": 1,
"spansProcessed": 1,
"eventsStored": 0
}`,
} as const;
