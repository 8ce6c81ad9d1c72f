import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const st = (spanId: string, state: string, agentName: string | null = 'planner') => semanticSpan({ spanId, state, agentName });

describe('state_corruption detector', () => {
  it('stays silent on states that only grow and progress', () => {
    const spans = [
      st('a', '{"step":1,"status":"pending","plan":{"items":["x"]}}'),
      st('b', '{"step":2,"status":"running","plan":{"items":["x","y"]},"notes":"n"}'),
      st('c', '{"step":3,"status":"done","plan":{"items":["x","y"]},"notes":null,"discount":1}'),
      st('d', '{"step":4,"status":"done","plan":{"items":[]},"notes":"m","discount":0}'),
    ];
    expect(run('state_corruption', spans)).toHaveLength(0);
  });

  it('reports lost fields as medium, attributed to the agent', () => {
    const findings = run('state_corruption', [st('a', '{"task":"t","plan":{"items":[],"owner":"x"}}'), st('b', '{"task":"t","plan":{"items":[]}}')]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'state_corruption', severity: 'medium', agent: 'planner', affectedSpanIds: ['b'] });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ kind: 'lost_fields', lost: ['plan.owner'] });
  });

  it('reports a type change, a counter going back and a status moving back as high', () => {
    const typeChange = run('state_corruption', [st('a', '{"items":[1]}'), st('b', '{"items":"1"}')]);
    expect(typeChange[0]).toMatchObject({ severity: 'high' });
    expect(typeChange[0]!.evidence[0]!.data).toMatchObject({ kind: 'type_change', field: 'items' });
    const counter = run('state_corruption', [st('a', '{"stepCount":5}'), st('b', '{"stepCount":2}')]);
    expect(counter[0]!.evidence[0]!.data).toMatchObject({ kind: 'monotonic_decrease', before: 5, after: 2 });
    const status = run('state_corruption', [st('a', '{"status":"completed"}'), st('b', '{"status":"in progress"}')]);
    expect(status[0]!.evidence[0]!.data).toMatchObject({ kind: 'status_backwards' });
    expect(status[0]!.severity).toBe('high');
  });

  it('reports a state that stops parsing after parsable ones, but not one never parsable', () => {
    const findings = run('state_corruption', [st('a', '{"x":1}'), st('b', '{"x":1')]);
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ kind: 'unparsable' });
    expect(findings[0]!.affectedSpanIds).toEqual(['b']);
    expect(run('state_corruption', [st('a', 'not json'), st('b', 'still not')])).toHaveLength(0);
  });

  it('compares states per agent, never across agents', () => {
    const spans = [st('a', '{"step":5,"x":1}', 'planner'), st('b', '{"step":1}', 'coder'), st('c', '{"step":6,"x":2}', 'planner')];
    expect(run('state_corruption', spans)).toHaveLength(0);
  });

  it('does not treat a null field becoming a value as a type change', () => {
    expect(run('state_corruption', [st('a', '{"result":null}'), st('b', '{"result":{"ok":true}}')])).toHaveLength(0);
  });

  it('validates its config', () => {
    expect(() => createDetectors({ state_corruption: { minLostFields: 0 } })).toThrow(/detector state_corruption: minLostFields:/);
    expect(() => createDetectors({ state_corruption: { reportUnparsable: 'no' } })).toThrow(/detector state_corruption: reportUnparsable:/);
    expect(run('state_corruption', [st('a', '{"a":1,"b":2}'), st('b', '{"a":1}')], { state_corruption: { minLostFields: 2 } })).toHaveLength(0);
  });
});
