/**
 * What the trace and tenant stages share: a consumer group over one input topic, a
 * RocksDB state store with a changelog, and units that carry a batch's outputs, store
 * writes and consumed offset together (DESIGN.md, "Two transports, one pipeline").
 */
import type { Logger } from 'pino';
import type { Consumer, ConsumerHandlers, Log, OutgoingRecord, StateStore, WorkUnit } from '../log/port.js';
import { StageHealth } from './stage-health.js';

/** An output a batch produced, appended when its unit commits. */
export interface StageOutput {
  readonly topic: string;
  readonly record: OutgoingRecord;
}

/** Appends outputs in the order produced, one append per topic. */
export function appendOutputs(unit: WorkUnit, outputs: readonly StageOutput[]): void {
  const byTopic = new Map<string, OutgoingRecord[]>();
  for (const { topic, record } of outputs) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [record]);
    else list.push(record);
  }
  for (const [topic, records] of byTopic) unit.append(topic, records);
}

export abstract class StatefulStage {
  private consumer: Consumer | null = null;
  private store: StateStore | null = null;
  /** Running, or failed with the reason its own state gave out; /readyz reports it. */
  readonly health: StageHealth;

  protected constructor(
    private readonly identity: { readonly name: string; readonly group: string; readonly input: string; readonly storeName: string },
    protected readonly stageLog: Log,
    protected readonly stageLogger: Logger,
  ) {
    this.health = new StageHealth(identity.name);
  }

  protected abstract handlers(): ConsumerHandlers;

  async start(): Promise<void> {
    const { group, input, storeName } = this.identity;
    this.store = await this.stageLog.openStore(group, storeName, { changelog: true });
    this.consumer = await this.stageLog.consume({ group, topics: [input] }, this.handlers());
    this.health.watch(this.consumer.done, this.stageLogger);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** Resolves when the consumer ends; rejects if processing failed. */
  get done(): Promise<void> {
    return this.consumer?.done ?? Promise.resolve();
  }

  protected requireStore(): StateStore {
    if (this.store === null) throw new Error(`${this.identity.name} is not started`);
    return this.store;
  }
}
