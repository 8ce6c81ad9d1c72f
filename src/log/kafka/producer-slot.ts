/**
 * One kafkajs producer, connected on first use and replaced after a failure: callers that
 * arrive while it connects share the connection attempt, and `discard()` disconnects it so
 * the next `get()` starts afresh (kafkajs's state after a failed request cannot be trusted).
 */
import type { Producer } from 'kafkajs';

export class ProducerSlot {
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;

  constructor(
    private readonly make: () => Producer,
    private readonly onDisconnectError: (err: unknown) => void = () => undefined,
  ) {}

  get(): Promise<Producer> {
    if (this.producer !== null) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.make();
      try {
        await producer.connect();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async discard(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    if (producer !== null) await producer.disconnect().catch(this.onDisconnectError);
  }
}
