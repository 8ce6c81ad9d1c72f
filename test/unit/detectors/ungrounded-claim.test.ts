import { describe, expect, it } from 'vitest';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { semanticSpan } from '../semantic/fixtures.js';
import { run } from './run-detector.js';

const TASK = 'Which of the two homes on Akaikai Loop and Komo Mai Drive in Pearl City sold for more in 2022, and at what price?';

let clock = 0n;
function step(spanId: string, init: Partial<SemanticSpan>): SemanticSpan {
  clock += 10n;
  return semanticSpan({ spanId, startNs: clock, endNs: clock + 5n, ...init });
}
function root(): SemanticSpan {
  clock = 0n;
  return semanticSpan({ spanId: 'root', parentSpanId: '', operation: 'invoke_agent', prompt: TASK, startNs: 0n, endNs: 1_000n });
}
const chat = (spanId: string, agentName: string, prompt: string, completion: string) =>
  step(spanId, { operation: 'chat', agentName, prompt, completion });
const search = (spanId: string, agentName: string, query: string, result: string) =>
  step(spanId, { operation: 'execute_tool', toolName: 'web_search', agentName, toolArguments: JSON.stringify({ query }), toolResult: result });

describe('ungrounded_claim', () => {
  it('reports the first agent that states prices no tool returned, with severity medium', () => {
    const spans = [
      root(),
      chat('plan', 'analyst', TASK, 'I will ask the real estate expert for the sale prices of both homes, then compare them.'),
      chat('facts', 'realtor', 'Please provide the sale prices of both homes.', 'Here is the sales data: the home on Akaikai Loop sold for $850,000 and the one on Komo Mai Drive sold for $950,000 in 2022.'),
      chat('check', 'verifier', 'Please verify.', 'Based on the data provided, Komo Mai Drive sold for more, at 950000, which is higher than 850000. The task is complete.'),
    ];
    const findings = run('ungrounded_claim', spans);
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f!.agent).toBe('realtor');
    expect(f!.affectedSpanIds).toEqual(['facts']);
    expect(f!.severity).toBe('medium');
    expect(f!.evidence[0]!.data).toMatchObject({ numbers: ['$850,000', '$950,000'].map((n) => n.slice(1)) });
  });

  it('is silent when the figures come from a tool result, even reformatted or rounded', () => {
    const spans = [
      root(),
      chat('plan', 'analyst', TASK, 'I will search for the 2022 sale records of both homes and compare the prices.'),
      search('s1', 'analyst', 'Akaikai Loop Pearl City sold 2022', 'Akaikai Loop, Pearl City HI: sold 2022-05-12 for 850000.00 USD (listing 4,512 views).'),
      search('s2', 'analyst', 'Komo Mai Drive Pearl City sold 2022', 'Komo Mai Drive, Pearl City HI: sold 2022-08-30 for 949,600 USD.'),
      chat('answer', 'analyst', 'Search results.', 'The home on Komo Mai Drive sold for more: about $950,000 (949,600 exactly), against $850,000 for Akaikai Loop.'),
    ];
    expect(run('ungrounded_claim', spans)).toEqual([]);
  });

  it('does not judge code, URLs, list numbering, years or program output', () => {
    const spans = [
      root(),
      chat(
        'code',
        'coder',
        TASK,
        [
          'Step 1 of 3: I will load the 2022 sales table and compare the two rows. See https://example.com/sales/2022/9931 for the source.',
          '```python',
          'prices = {"Akaikai": 850000, "Komo Mai": 950000}',
          'print(max(prices, key=prices.get), 123456)',
          '```',
          'Run it with `python compare.py --limit 5000`.',
        ].join('\n'),
      ),
      chat('log', 'terminal_reader', 'Output?', 'exitcode: 0\n850000 950000 123456\n4512 9931 77'),
    ];
    expect(run('ungrounded_claim', spans)).toEqual([]);
  });

  it('counts a retrieval result as grounding and never judges it as a claim', () => {
    const spans = [
      root(),
      step('ret', { operation: 'retrieval', agentName: 'rag', prompt: TASK, completion: JSON.stringify([{ id: 'doc-1', text: 'Komo Mai Drive sold for 950000 in 2022; Akaikai Loop for 850000.' }]) }),
      chat('answer', 'rag', 'Context and question.', 'According to the knowledge base, Komo Mai Drive sold for $950,000 and Akaikai Loop for $850,000 [doc-1].'),
    ];
    expect(run('ungrounded_claim', spans)).toEqual([]);
  });

  it('grades a single ungrounded figure low and lets a later repetition of it pass', () => {
    const spans = [
      root(),
      search('s1', 'analyst', 'Komo Mai Drive sold 2022', 'Komo Mai Drive, Pearl City HI: sold for 950,000 USD.'),
      chat('a1', 'analyst', 'Search results.', 'Komo Mai Drive sold for $950,000, and I recall the Akaikai Loop home went for 850,000 in the same year.'),
      chat('a2', 'writer', 'Notes.', 'Komo Mai Drive ($950,000) sold for more than Akaikai Loop ($850,000).'),
    ];
    const findings = run('ungrounded_claim', spans);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.severity).toBe('low');
    expect(findings[0]!.affectedSpanIds).toEqual(['a1']);
    expect(run('ungrounded_claim', spans, { ungrounded_claim: { minUngrounded: 2 } })).toEqual([]);
  });

  it('rejects an invalid configuration', () => {
    expect(() => run('ungrounded_claim', [root()], { ungrounded_claim: { minUngrounded: 0 } })).toThrow(/ungrounded_claim: minUngrounded/);
  });
});
