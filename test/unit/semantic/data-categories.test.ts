import { describe, expect, it } from 'vitest';
import { dataCategoriesOf } from '../../../src/semantic/data-categories.js';
import { toSemanticSpan } from '../../../src/semantic/mapper.js';
import { canonicalSpan } from './fixtures.js';

describe('dataCategoriesOf', () => {
  it('lists the categories the spans carry, sorted', () => {
    const spans = [
      canonicalSpan({ spanId: 'a', attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.prompt': 'Weather in Paris?' } }),
      canonicalSpan({
        spanId: 'b',
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'weather', 'gen_ai.tool.call.arguments': '{"city":"Paris"}', 'gen_ai.tool.call.result': '18C' },
      }),
    ].map((s) => toSemanticSpan(s));
    expect(dataCategoriesOf(spans)).toEqual(['prompts', 'tool_arguments', 'tool_results']);
  });

  it('lists nothing for spans with only operational metadata', () => {
    expect(dataCategoriesOf([toSemanticSpan(canonicalSpan({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 10 } }))])).toEqual([]);
  });
});
