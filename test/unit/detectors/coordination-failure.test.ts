import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../src/detectors/registry.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

let clock = 0n;
function handoff(spanId: string, from: string, to: string, extra: Partial<SemanticSpan> = {}): SemanticSpan {
  clock += 10n;
  return semanticSpan({ spanId, name: `handoff to ${to}`, operation: 'handoff', agentName: from, startNs: clock, endNs: clock + 1n, ...extra });
}
function work(spanId: string, agentName: string): SemanticSpan {
  clock += 10n;
  return semanticSpan({ spanId, operation: 'chat', agentName, startNs: clock, endNs: clock + 1n });
}

/** Hand-offs alternating between a and b, each followed by work of the receiver. */
function bounce(n: number): SemanticSpan[] {
  const spans: SemanticSpan[] = [];
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    spans.push(handoff(`h${i}`, from, to), work(`w${i}`, to));
  }
  return spans;
}

describe('coordination_failure detector', () => {
  it('reports ping-pong from 3 round trips (7 alternating hand-offs) and not at 6', () => {
    expect(run('coordination_failure', bounce(6))).toHaveLength(0);
    const findings = run('coordination_failure', bounce(7));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ detectionType: 'coordination_failure', severity: 'medium' });
    expect(findings[0]!.affectedSpanIds).toEqual(['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ agents: ['b', 'a'], roundTrips: 3 });
    expect(findings[0]!.agent).toBe('b');
  });

  it('does not call a model node alternating with a node that only runs tools ping-pong (a ReAct loop)', () => {
    // LangGraph's ReAct graph: the `agent` node calls the model, the `tools` node only runs tools.
    const spans: SemanticSpan[] = [];
    for (let i = 0; i < 9; i++) {
      const node = i % 2 === 0 ? 'agent' : 'tools';
      clock += 10n;
      spans.push(semanticSpan({ spanId: `n${i}`, name: node, operation: 'invoke_agent', agentName: node, startNs: clock, endNs: clock + 5n }));
      clock += 1n;
      const inner = node === 'agent' ? { operation: 'chat' as const } : { operation: 'execute_tool' as const, toolName: 'get_weather' };
      spans.push(semanticSpan({ spanId: `c${i}`, parentSpanId: `n${i}`, agentName: node, startNs: clock, endNs: clock + 1n, ...inner }));
    }
    expect(run('coordination_failure', spans)).toHaveLength(0);
    // The same alternation between two nodes that both call models is two agents bouncing work.
    const thinking = spans.map((s) => (s.operation === 'execute_tool' ? { ...s, operation: 'chat' as const, toolName: null } : s));
    expect(run('coordination_failure', thinking).map((f) => f.title)).toEqual([expect.stringContaining('Ping-pong')]);
  });

  it('reports a hand-off to an agent that never acts, attributed to the sender', () => {
    const spans = [work('p', 'planner'), handoff('h', 'planner', 'coder'), work('r', 'reviewer')];
    const findings = run('coordination_failure', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'high', agent: 'planner', affectedSpanIds: ['h'] });
    expect(findings[0]!.title).toContain('coder');
  });

  it('attributes a hand-off to an agent that acted before but not after it to that agent', () => {
    const spans = [work('p', 'planner'), handoff('h1', 'planner', 'coder'), work('c', 'coder'), handoff('h2', 'planner', 'coder'), work('r', 'reviewer')];
    const findings = run('coordination_failure', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'high', agent: 'coder', affectedSpanIds: ['h2'] });
    expect(findings[0]!.evidence[0]!.data).toMatchObject({ target: 'coder', senders: ['planner'], actedBefore: true });
  });

  it('attributes ping-pong through a router to the first agent that gave the work back, not the router', () => {
    const spans: SemanticSpan[] = [];
    for (let i = 0; i < 7; i++) {
      const to = i % 2 === 0 ? 'surfer' : 'coder';
      spans.push(handoff(`h${i}`, 'router', to), work(`w${i}`, to));
    }
    const findings = run('coordination_failure', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.agent).toBe('surfer');
  });

  it('stays silent when the receiver acts after the hand-off', () => {
    expect(run('coordination_failure', [work('p', 'planner'), handoff('h', 'planner', 'coder'), work('c', 'coder')])).toHaveLength(0);
  });

  it('counts the children of an invoke_agent span as the agent acting', () => {
    const invoke = semanticSpan({ spanId: 'inv', name: 'invoke_agent coder', operation: 'invoke_agent', startNs: 1000n });
    const child = semanticSpan({ spanId: 'c', parentSpanId: 'inv', operation: 'chat', startNs: 1001n });
    expect(run('coordination_failure', [work('p', 'planner'), work('r', 'reviewer'), invoke, child])).toHaveLength(0);
  });

  it('reports the same task dispatched to two agents, not the same task to one agent twice', () => {
    const prompt = 'Summarise the quarterly pricing report for ACME';
    const dup = [work('o', 'orchestrator'), handoff('h1', 'orchestrator', 'w1', { prompt }), work('x', 'w1'), handoff('h2', 'orchestrator', 'w2', { prompt: ` ${prompt}\n` }), work('y', 'w2')];
    const findings = run('coordination_failure', dup);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ agent: 'orchestrator', affectedSpanIds: ['h1', 'h2'] });
    const retry = [work('o', 'orchestrator'), handoff('h1', 'orchestrator', 'w1', { prompt }), work('x', 'w1'), handoff('h2', 'orchestrator', 'w1', { prompt }), work('y', 'w1')];
    expect(run('coordination_failure', retry)).toHaveLength(0);
  });

  it('does not judge a single-agent trace', () => {
    const lone = semanticSpan({ spanId: 'inv', name: 'invoke_agent helper', operation: 'invoke_agent', agentName: 'helper' });
    expect(run('coordination_failure', [lone])).toHaveLength(0);
  });

  it('validates its config', () => {
    expect(() => createDetectors({ coordination_failure: { minRoundTrips: 1 } })).toThrow(/detector coordination_failure: minRoundTrips:/);
    expect(run('coordination_failure', bounce(7), { coordination_failure: { minRoundTrips: 4 } })).toHaveLength(0);
  });
});
