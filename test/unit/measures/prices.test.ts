import { describe, expect, it } from 'vitest';
import { normaliseModelName, parsePriceTable, PRICE_TABLE, priceOf } from '../../../src/measures/prices.js';
import table from '../../../src/measures/prices/2026-11.json' with { type: 'json' };

describe('normaliseModelName', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['  GPT-4o ', 'gpt-4o'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['openai/gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['o3-2025-04-16', 'o3'],
    ['claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['anthropic/claude-sonnet-4', 'claude-sonnet-4'],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4'],
    ['anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku'],
    ['claude-opus-4@20250514', 'claude-opus-4'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['openrouter/google/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['gpt-4.1-nano', 'gpt-4.1-nano'],
  ])('%s → %s', (raw, normal) => {
    expect(normaliseModelName(raw)).toBe(normal);
  });
});

describe('priceOf', () => {
  it('prefers the exact name, so a snapshot priced differently keeps its own price', () => {
    expect(priceOf(PRICE_TABLE, 'gpt-4o-2024-05-13')?.input).toBe(5);
    expect(priceOf(PRICE_TABLE, 'gpt-4o-2024-08-06')?.input).toBe(2.5);
  });

  it('finds aliases and gives null for an unknown model', () => {
    expect(priceOf(PRICE_TABLE, 'claude-sonnet-4-0')).toEqual(priceOf(PRICE_TABLE, 'claude-sonnet-4'));
    expect(priceOf(PRICE_TABLE, 'acme-llm-7')).toBeNull();
    expect(priceOf(PRICE_TABLE, 'gpt-4')).toBeNull();
  });
});

describe('the bundled price table', () => {
  it('is dated, names its sources and says prices must be checked', () => {
    expect(PRICE_TABLE.taken).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(table.sources).sort()).toEqual(['anthropic', 'google', 'openai']);
    expect(table.note).toMatch(/checked against the providers' price pages/);
  });

  it('covers the common current models with input, cached input and output prices', () => {
    for (const model of [
      ...['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini'],
      ...['claude-sonnet-4', 'claude-opus-4', 'claude-3-5-haiku', 'gemini-2.5-pro', 'gemini-2.5-flash'],
    ]) {
      const p = priceOf(PRICE_TABLE, model);
      expect(p, model).not.toBeNull();
      expect(p!.output, model).toBeGreaterThan(p!.input);
      expect(p!.cachedInput, model).toBeLessThanOrEqual(p!.input);
    }
  });

  it('rejects malformed tables', () => {
    expect(() => parsePriceTable({ taken: 'soon', models: {} })).toThrow(/taken/);
    expect(() => parsePriceTable({ taken: '2026-01-01', models: { m: { input: -1, cached_input: 0, output: 1 } } })).toThrow(/m\.input/);
    expect(() => parsePriceTable({ taken: '2026-01-01', models: { m: { input: 1, cached_input: 1, output: 1, aliases: ['M'] } } })).toThrow(/twice/);
  });
});
