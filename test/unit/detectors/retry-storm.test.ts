import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { produced, run } from './run-detector.js';

const fail = (id: string, tool = 'fetch') => toolCall(id, tool, '{}', { isError: true, errorMessage: 'HTTP 500', parentSpanId: 'agent' });
const ok = (id: string, tool = 'fetch') => toolCall(id, tool, '{}', { parentSpanId: 'agent' });
const agent = semanticSpan({ spanId: 'agent', parentSpanId: '', operation: 'invoke_agent', agentName: 'browser' });

describe('retry_storm detector', () => {
  it('fires on three consecutive failures of one tool, attributed to the calling agent', () => {
    const findings = run('retry_storm', [agent, fail('a'), fail('b'), fail('c')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'retry_storm', affectedSpanIds: ['a', 'b', 'c'], agent: 'browser', severity: 'medium' });
    expect(findings[0]!.description).toContain('HTTP 500');
    expect(findings[0]!.suggestedFix).not.toBe('');
  });

  it('stays silent when a success breaks the run (near miss)', () => {
    expect(run('retry_storm', [agent, fail('a'), fail('b'), ok('c'), fail('d'), fail('e')])).toHaveLength(0);
  });

  it('keeps tools apart and is not broken by other tools in between', () => {
    const findings = run('retry_storm', [fail('a'), ok('x', 'search'), fail('b'), fail('y', 'search'), fail('c')]);
    expect(findings.map((f) => f.affectedSpanIds)).toEqual([['a', 'b', 'c']]);
  });

  it('is high severity from twice the threshold and keeps its fingerprint as the run grows', () => {
    const three = run('retry_storm', [fail('a'), fail('b'), fail('c')]);
    const six = run('retry_storm', ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => fail(id)));
    expect(six[0]!.severity).toBe('high');
    expect(six[0]!.confidence).toBeGreaterThan(three[0]!.confidence);
    expect(six[0]!.fingerprint).toBe(three[0]!.fingerprint);
  });

  it('honours minConsecutiveFailures and rejects invalid values', () => {
    expect(run('retry_storm', [fail('a'), fail('b')], { retry_storm: { minConsecutiveFailures: 2 } })).toHaveLength(1);
    expect(() => createDetectors({ retry_storm: { minConsecutiveFailures: 1 } })).toThrow(/detector retry_storm: minConsecutiveFailures:/);
    expect(() => createDetectors({ retry_storm: { minConsecutiveFailures: 2.5 } })).toThrow(/minConsecutiveFailures/);
  });

  it('stays medium at twice the threshold when the run got past the storm (OTel GenAI spans)', () => {
    const update = (id: string, payment: string, result: string) => ({
      id,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'update_reservation_flights',
        'gen_ai.tool.call.arguments': JSON.stringify({ reservation_id: '1N99U6', cabin: 'economy', payment_id: payment }),
        'gen_ai.tool.call.result': result,
      },
      ...(result.startsWith('Error:') ? { error: result } : {}),
    });
    const root = { id: 'run', parent: '', attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'airline_agent' } };
    const failures = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => update(id, 'certificate_5371937', 'Error: certificate cannot be used to update reservation'));
    const unanswered = run('retry_storm', produced([root, ...failures]));
    expect(unanswered[0]).toMatchObject({ severity: 'high', agent: 'airline_agent' });
    const gotPast = run('retry_storm', produced([root, ...failures, update('g', 'gift_card_7503542', '{"reservation_id":"1N99U6","status":"updated"}')]));
    expect(gotPast[0]).toMatchObject({ severity: 'medium', affectedSpanIds: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(gotPast[0]!.evidence.at(-1)!.data).toMatchObject({ handling: 'retried', spanId: 'g' });
  });
});
