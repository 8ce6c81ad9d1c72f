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
