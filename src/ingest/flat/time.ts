/**
 * Timestamps as JSON producers send them, to Unix nanoseconds (bigint, exact):
 *
 * - ISO 8601 / RFC 3339 strings with a zone ("2026-04-16T18:18:18.491929Z", "+02:00");
 *   fractional seconds are kept to the nanosecond (Date would round them to milliseconds).
 *   A string without a zone is read as UTC.
 * - numbers (or decimal strings) since the Unix epoch, the unit told by magnitude, as
 *   Python's time.time(), Date.now(), and OTel's nanosecond clocks produce them:
 *   below 1e11 seconds (fractions kept to the microsecond), below 1e14 milliseconds,
 *   below 1e17 microseconds, above nanoseconds. 1e11 seconds is the year 5138 and 1e11
 *   milliseconds is 1973, so any real timestamp of this century is read right.
 *
 * Throws a TimeError with the reason; callers add the field path.
 */

export class TimeError extends Error {}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9})\d*)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const MAX_NS = 2n ** 64n - 1n;

function fromNumber(n: number): bigint {
  if (!Number.isFinite(n) || n <= 0) throw new TimeError(`expected a positive epoch time, got ${n}`);
  let ns: bigint;
  if (n < 1e11) ns = BigInt(Math.round(n * 1e6)) * 1000n;
  else if (n < 1e14) ns = BigInt(Math.round(n * 1e3)) * 1000n;
  else if (n < 1e17) ns = BigInt(Math.round(n)) * 1000n;
  else ns = BigInt(Math.round(n));
  if (ns > MAX_NS) throw new TimeError(`epoch time ${n} is out of range`);
  return ns;
}

function fromIso(text: string): bigint {
  const m = ISO.exec(text.trim());
  if (m === null) throw new TimeError(`expected an ISO 8601 time or an epoch number, got ${JSON.stringify(text.slice(0, 48))}`);
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) {
    throw new TimeError(`${JSON.stringify(text)} is not a valid date`);
  }
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const ns = (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + BigInt(frac.padEnd(9, '0'));
  if (ns <= 0n) throw new TimeError(`${JSON.stringify(text)} is not after the Unix epoch`);
  return ns;
}

/** A timestamp in any accepted form, as Unix nanoseconds. */
export function toUnixNano(value: unknown): bigint {
  if (typeof value === 'number') return fromNumber(value);
  if (typeof value === 'bigint') {
    if (value <= 0n || value > MAX_NS) throw new TimeError(`expected a positive epoch time, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (DECIMAL.test(text)) {
      // Long digit strings (nanoseconds) are exact as bigints; numbers would round them.
      if (/^\d{16,20}$/.test(text)) return toUnixNano(BigInt(text) < 100_000_000_000_000_000n ? Number(text) : BigInt(text));
      return fromNumber(Number(text));
    }
    return fromIso(text);
  }
  throw new TimeError(`expected an ISO 8601 string or an epoch number, got ${value === null ? 'null' : typeof value}`);
}

/** Unix nanoseconds to whole milliseconds. */
export function nanosToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}
