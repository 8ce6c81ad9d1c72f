/**
 * The door check on key parts: every name the views key by is bounded whichever attribute
 * convention it came from, and a span over a limit is rejected alone, naming the field.
 */
import { describe, expect, it } from 'vitest';
import { spanKeyPartProblem } from '../../../src/semantic/key-parts.js';
import { decodeOtlpJson } from '../../../src/ingest/otlp/json.js';
import { decodeOtlpProto, ExportTraceServiceRequest } from '../../../src/ingest/otlp/proto.js';
import { KEY_PART_LIMITS } from '../../../src/model/key-parts.js';

const ctx = { tenantId: 't1', receivedAtMs: 1_700_000_000_000 };

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

function span(spanId: string, name: string, attributes: ReturnType<typeof str>[] = []) {
  return { traceId: '5b8efff798038103d269b633813fc60c', spanId, name, startTimeUnixNano: '1700000000000000000', attributes };
}

function request(resources: { service: string; scopeAttributes?: ReturnType<typeof str>[]; spans: ReturnType<typeof span>[] }[]) {
  return {
    resourceSpans: resources.map((r) => ({
      resource: { attributes: [str('service.name', r.service)] },
      scopeSpans: [{ scope: { name: 's', attributes: r.scopeAttributes ?? [] }, spans: r.spans }],
    })),
  };
}

const over = (limit: number) => 'S'.repeat(limit + 1);

describe('key parts at the door', () => {
  it('a 70,000-character service.name rejects its spans by name and the limit, and the other resource is accepted', () => {
    const body = request([
      { service: 'S'.repeat(70_000), spans: [span('eee19b7ec3c1b174', 'chat')] },
      { service: 'checkout', spans: [span('eee19b7ec3c1b175', 'chat')] },
    ]);
    const result = decodeOtlpJson(body, ctx);
    expect(result.spans.map((s) => s.spanId)).toEqual(['eee19b7ec3c1b175']);
    expect(result.rejected).toEqual([
      {
        path: 'resourceSpans[0].scopeSpans[0].spans[0]',
        reason: `resource.attributes["service.name"]: 70000 characters, over the limit of ${KEY_PART_LIMITS.serviceName} for a service name`,
      },
    ]);
  });

  it('the protobuf route is checked by the same converter', () => {
    const message = ExportTraceServiceRequest.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'svc')] },
          scopeSpans: [{ spans: [{ ...span('', 'chat', [str('gen_ai.request.model', over(KEY_PART_LIMITS.modelName))]), traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2) }] }],
        },
      ],
    });
    const result = decodeOtlpProto(ExportTraceServiceRequest.encode(message).finish(), ctx);
    expect(result.spans).toHaveLength(0);
    expect(result.rejected[0]!.reason).toContain('attributes["gen_ai.request.model"]');
    expect(result.rejected[0]!.reason).toContain(`limit of ${KEY_PART_LIMITS.modelName} for a model name`);
  });

  it('names the mapper derives from other conventions are bounded too, with the attribute and layer named', () => {
    const body = request([
      {
        service: 'svc',
        scopeAttributes: [str('langgraph.node.name', over(KEY_PART_LIMITS.agentName))],
        spans: [
          span('eee19b7ec3c1b001', 'node'),
          span('eee19b7ec3c1b002', 'chat', [str('llm.model_name', over(KEY_PART_LIMITS.modelName)), str('agent.name', 'a')]),
          span('eee19b7ec3c1b003', 'call', [str('tool_call.function.name', over(KEY_PART_LIMITS.toolName)), str('agent.name', 'a')]),
        ],
      },
    ]);
    const reasons = decodeOtlpJson(body, ctx).rejected.map((r) => r.reason.split(':')[0]);
    expect(reasons).toEqual(['scope.attributes["langgraph.node.name"]', 'attributes["llm.model_name"]', 'attributes["tool_call.function.name"]']);
  });

  it('a tool span without a tool attribute is keyed by its name, so the name is bounded', () => {
    const [tool] = decodeOtlpJson(request([{ service: 'svc', spans: [span('eee19b7ec3c1b001', 'x', [str('gen_ai.operation.name', 'execute_tool')])] }]), ctx).spans;
    expect(spanKeyPartProblem(tool!)).toBeNull();
    expect(spanKeyPartProblem({ ...tool!, name: over(KEY_PART_LIMITS.toolName) })).toMatch(/^name: .* for a tool name$/);
    // Not a tool span: the name is no key part.
    const [chat] = decodeOtlpJson(request([{ service: 'svc', spans: [span('eee19b7ec3c1b002', over(1000), [str('gen_ai.operation.name', 'chat')])] }]), ctx).spans;
    expect(spanKeyPartProblem(chat!)).toBeNull();
  });

  it('a value at the limit is accepted; one character more is refused', () => {
    const at = decodeOtlpJson(request([{ service: 'S'.repeat(KEY_PART_LIMITS.serviceName), spans: [span('eee19b7ec3c1b001', 'chat')] }]), ctx);
    expect(at.rejected).toEqual([]);
    const past = decodeOtlpJson(request([{ service: over(KEY_PART_LIMITS.serviceName), spans: [span('eee19b7ec3c1b001', 'chat')] }]), ctx);
    expect(past.rejected).toHaveLength(1);
  });

  it('the tenant id is a key part', () => {
    const [s] = decodeOtlpJson(request([{ service: 'svc', spans: [span('eee19b7ec3c1b001', 'chat')] }]), ctx).spans;
    expect(spanKeyPartProblem({ ...s!, tenantId: over(KEY_PART_LIMITS.tenantId) })).toMatch(/^tenant: /);
  });
});
