import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan, toolCall } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const at = (t: number): Partial<SemanticSpan> => ({ startNs: BigInt(t), endNs: BigInt(t + 5) });
const fail = (id: string, tool: string, t: number) => toolCall(id, tool, '{}', { ...at(t), isError: true, errorMessage: 'HTTP 500' });
const ok = (id: string, tool: string, t: number) => toolCall(id, tool, '{}', at(t));
const final = (completion: string, t = 100) => semanticSpan({ spanId: 'final', operation: 'chat', agentName: 'writer', completion, ...at(t) });

describe('premature_termination detector', () => {
  it('reports a success claim after an unresolved error, attributed to the claiming agent', () => {
    const findings = run('premature_termination', [ok('s', 'search', 0), fail('f', 'fetch', 10), final('All done! The report is finished.')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'premature_termination', severity: 'high', agent: 'writer', affectedSpanIds: ['f', 'final'] });
  });

  it('stays silent when the failed step was retried successfully', () => {
    expect(run('premature_termination', [fail('f', 'fetch', 10), ok('r', 'fetch', 20), final('Task complete.')])).toHaveLength(0);
  });

  it('stays silent when the final output does not claim success', () => {
    expect(run('premature_termination', [fail('f', 'fetch', 10), final('I could not complete the task: the fetch failed.')])).toHaveLength(0);
    expect(run('premature_termination', [fail('f', 'fetch', 10), final('Here is a partial draft.')])).toHaveLength(0);
  });

  it('reads a final state with a done status as a claim', () => {
    const last = semanticSpan({ spanId: 'st', agentName: 'planner', state: '{"status":"complete"}', ...at(50) });
    const findings = run('premature_termination', [fail('f', 'fetch', 10), last]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.agent).toBe('planner');
  });

  it('validates its config', () => {
    expect(() => createDetectors({ premature_termination: { minUnresolvedErrors: 0 } })).toThrow(/detector premature_termination: minUnresolvedErrors:/);
    const spans = [fail('f', 'fetch', 10), final('Done.')];
    expect(run('premature_termination', spans, { premature_termination: { minUnresolvedErrors: 2 } })).toHaveLength(0);
  });
});
