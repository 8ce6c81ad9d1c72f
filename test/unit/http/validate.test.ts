import { describe, expect, it } from 'vitest';
import { checkBodyNesting, instantQuery, MAX_BODY_NESTING, tooDeeplyNested } from '../../../src/http/validate.js';
import { TracefoldError } from '../../../src/model/errors.js';

/** `{"a": {"a": … 1}}` with `levels` objects, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('body nesting', () => {
  it('allows MAX_BODY_NESTING levels and refuses one more, naming the path', () => {
    expect(tooDeeplyNested(nested(MAX_BODY_NESTING))).toBeNull();
    expect(tooDeeplyNested({ spans: [nested(MAX_BODY_NESTING - 2)] })).toBeNull();
    expect(tooDeeplyNested({ spans: [nested(MAX_BODY_NESTING - 1)] })).toBe(`body.spans.0${'.a'.repeat(MAX_BODY_NESTING - 2)}`);
  });

  it('walks 100,000 levels without overflowing the stack, and the 400 cuts the path short', () => {
    let error: unknown;
    try {
      checkBodyNesting({ events: [{ input: nested(100_000) }] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TracefoldError);
    expect((error as TracefoldError).statusCode).toBe(400);
    expect((error as TracefoldError).message).toBe(`body.events.0.input.a.a.a.a…: nested deeper than ${MAX_BODY_NESTING} levels`);
  });

  it('does not walk into buffers (a raw OTLP body) or non-JSON objects', () => {
    class Decoded {
      readonly inner = nested(MAX_BODY_NESTING + 10);
    }
    expect(tooDeeplyNested({ decoded: { ...new Decoded() } })).not.toBeNull();
    expect(tooDeeplyNested({ decoded: new Decoded() })).toBeNull();
    expect(tooDeeplyNested({ format: 'json', bytes: Buffer.alloc(1_000_000) })).toBeNull();
    expect(tooDeeplyNested(Buffer.alloc(10))).toBeNull();
    expect(tooDeeplyNested('text')).toBeNull();
  });
});

describe('instant query', () => {
  it('takes epoch milliseconds and ISO-8601 up to the last instant a date holds, and nothing past it', () => {
    expect(instantQuery.parse('1700000000000')).toBe(1_700_000_000_000);
    expect(instantQuery.parse('2024-01-01T00:00:00Z')).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(instantQuery.parse('8640000000000000')).toBe(8.64e15);
    expect(instantQuery.safeParse('8640000000000001').success).toBe(false);
    expect(instantQuery.safeParse('18446744073709551616').success).toBe(false);
  });
});
