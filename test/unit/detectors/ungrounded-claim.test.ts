import { describe, expect, it } from 'vitest';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';
import type { SemanticSpan } from '../../../src/semantic/semantic-span.js';
import { canonicalSpan, semanticSpan } from '../semantic/fixtures.js';
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

  describe('arithmetic over sourced numbers (OpenInference spans of a retail support agent)', () => {
    const SEC = 1_000_000_000n;
    let at = 0n;
    const openInference = (spanId: string, attributes: Record<string, string | number>) => {
      at += SEC;
      return toSemanticSpan(canonicalSpan({ spanId, parentSpanId: 'agent', name: spanId, start: at, end: at + SEC / 2n, attributes }));
    };
    const llm = (spanId: string, prompt: string, completion: string) =>
      openInference(spanId, {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o',
        'llm.token_count.prompt': 3712,
        'input.value': prompt,
        'output.value': completion,
      });
    const tool = (spanId: string, name: string, args: object, result: string) =>
      openInference(spanId, {
        'openinference.span.kind': 'TOOL',
        'tool.name': name,
        'tool.parameters': '{"type":"object","properties":{"order_id":{"type":"string"}}}',
        'input.value': JSON.stringify(args),
        'output.value': result,
      });
    const order = JSON.stringify({
      order_id: '#W2378156',
      status: 'delivered',
      items: [
        { name: 'Headphones', item_id: '4202497723', price: 342.81 },
        { name: 'Vacuum Cleaner', item_id: '4602305039', price: 561.05 },
        { name: 'Smart Watch', item_id: '9408160950', price: 381.26 },
        { name: 'Keyboard', item_id: '1151293680', price: 273.38 },
      ],
      payment_history: [{ transaction_type: 'payment', amount: 1558.5, payment_method_id: 'credit_card_9513926' }],
    });
    const judge = (answer: string, extra: () => SemanticSpan[] = () => []) => {
      at = 0n;
      const spans = [
        llm('ask', 'I want to return the headphones, the smart watch and the keyboard from order #W2378156.', '{"tool_calls":[{"function":{"name":"get_order_details"}}]}'),
        tool('order', 'get_order_details', { order_id: '#W2378156' }, order),
        ...extra(),
        llm('answer', 'The order details are above.', answer),
      ];
      return run('ungrounded_claim', spans);
    };

    it('grounds a refund that is the sum of the returned items\' prices', () => {
      expect(judge('The refund for the headphones, the smart watch and the keyboard will be $997.45 to your original payment method.')).toEqual([]);
    });

    it('grounds a count times a price, and a total with a percentage written as one', () => {
      const quote = () => tool('quote', 'get_product_details', { product_id: '6938111410' }, '{"name":"Desk Lamp","price":48.25,"sales_tax":"8% in your state"}');
      expect(judge('Three desk lamps would cost 3 × $48.25 = $144.75 before tax.', () => [quote()])).toEqual([]);
      expect(judge('With the 8% sales tax one desk lamp comes to $52.11 in total.', () => [quote()])).toEqual([]);
    });

    it('reads a negative amount in a tool result as a source of its magnitude', () => {
      const refund = () => tool('refund', 'get_payment_history', { order_id: '#W2378156' }, '[{"transaction_type":"refund","amount":-16.63,"payment_method_id":"gift_card_7794233"}]');
      expect(judge('A refund of $16.63 was issued to your gift card on 2024-05-15 for that order.', () => [refund()])).toEqual([]);
    });

    it('reads a date rewritten from ISO form and the digits of an identifier as sourced', () => {
      const flight = () =>
        tool('search', 'search_direct_flight', { origin: 'IAH', destination: 'SFO', date: '2024-05-19' }, '[{"flight_number":"HAT072","date":"2024-05-19","prices":{"economy":121}}]');
      expect(judge('I found flight HAT072 from IAH to SFO on May 19, 2024, in economy for $121.', () => [flight()])).toEqual([]);
      // The day of another month is not the sourced date.
      expect(judge('I found flight HAT072 from IAH to SFO on June 19, 2024, in economy for $121.', () => [flight()])).toHaveLength(1);
      const user = () => tool('user', 'get_user_details', { user_id: 'mia_li_3668' }, '{"payment_methods":{"certificate_7504069":{"source":"certificate","amount":250}}}');
      expect(judge('I will use certificate 7504069 for the refund of the Headphones, $342.81.', () => [user()])).toEqual([]);
    });

    it('still reports a figure no arithmetic over the sources gives', () => {
      const findings = judge('The refund for the three items will be $1,012.40 to your original payment method.');
      expect(findings).toHaveLength(1);
      expect(findings[0]!.evidence[0]!.data).toMatchObject({ numbers: ['1,012.40'] });
    });

    it('does not derive small figures, which any two numbers of a run add up to', () => {
      // 20 = 4 × 5 or 342.81 − 322.81 would be coincidence, not a source.
      const findings = judge('Returns are usually processed within 20 business days, and you have 4 items in that order.');
      expect(findings).toHaveLength(1);
      expect(findings[0]!.evidence[0]!.data).toMatchObject({ numbers: ['20'] });
      expect(run('ungrounded_claim', [], { ungrounded_claim: { minDerivedDigits: 1 } })).toEqual([]);
    });
  });
});
