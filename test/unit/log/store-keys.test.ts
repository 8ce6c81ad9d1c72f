import { describe, expect, it } from 'vitest';
import { KeyPartTooLongError, MAX_KEY_PART_BYTES, parseTupleKey, str, tupleKey } from '../../../src/log/store-keys.js';

describe('store keys', () => {
  it('a string part up to 65,535 bytes round-trips', () => {
    const long = 'é'.repeat(MAX_KEY_PART_BYTES >> 1);
    expect(parseTupleKey(tupleKey('bl', 't', long), 'bl', ['s', 's'])).toEqual(['t', long]);
  });

  it('a longer part throws a typed error naming the key kind and position', () => {
    const thrown = (() => {
      try {
        tupleKey('bl', 0, 'tenant', 'S'.repeat(70_000));
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(thrown).toBeInstanceOf(KeyPartTooLongError);
    expect((thrown as KeyPartTooLongError).part).toBe('bl key part 3');
    expect((thrown as KeyPartTooLongError).bytes).toBe(70_000);
    expect((thrown as Error).message).toBe('bl key part 3 is 70000 bytes of UTF-8; a key part holds at most 65535');
  });

  it('str alone names the part it is given', () => {
    expect(() => str('x'.repeat(MAX_KEY_PART_BYTES + 1), 'trace id')).toThrow(/^trace id is 65536 bytes/);
  });
});
