/**
 * How far the views have read each topic partition, with waiters for read-your-writes: a
 * request that appended a record waits until its own view has consumed it.
 */
import { errors } from '../model/errors.js';
import { tpKey } from '../log/port.js';

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
}

export class Positions {
  private readonly next = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();
  private closed = false;

  get(topic: string, partition: number): number {
    return this.next.get(tpKey(topic, partition)) ?? 0;
  }

  set(topic: string, partition: number, nextOffset: number): void {
    const key = tpKey(topic, partition);
    this.next.set(key, nextOffset);
    const waiting = this.waiters.get(key);
    if (waiting === undefined) return;
    const still = waiting.filter((w) => {
      if (w.offset > nextOffset) return true;
      w.resolve();
      return false;
    });
    if (still.length === 0) this.waiters.delete(key);
    else this.waiters.set(key, still);
  }

  /** Resolves once the next offset to read is at least `nextOffset`. */
  waitFor(topic: string, partition: number, nextOffset: number, timeoutMs: number): Promise<void> {
    if (this.get(topic, partition) >= nextOffset) return Promise.resolve();
    if (this.closed) return Promise.reject(errors.timeout('the views are shutting down'));
    const key = tpKey(topic, partition);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(key) ?? [];
        this.waiters.set(
          key,
          list.filter((w) => w !== waiter),
        );
        reject(errors.timeout(`the views did not reach ${topic}[${partition}]@${nextOffset} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const waiter: Waiter = {
        offset: nextOffset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const list = this.waiters.get(key);
      if (list === undefined) this.waiters.set(key, [waiter]);
      else list.push(waiter);
    });
  }

  /** Lag per topic partition against the given end offsets. */
  lag(topic: string, ends: readonly number[]): number {
    let total = 0;
    ends.forEach((end, partition) => (total += Math.max(0, end - this.get(topic, partition))));
    return total;
  }

  close(): void {
    this.closed = true;
  }
}
