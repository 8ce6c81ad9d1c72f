import type { OutgoingRecord, StateStore, StoreOp, WorkUnit } from '../port.js';
import { tpKey } from '../port.js';
import { planAppend, routeRecords, type PlannedAppend, type RoutedRecords } from './append.js';
import { encodeU64, groupOffsetKey } from './keys.js';
import { RocksStateStore } from '../rocks/state-store.js';
import type { TopicRegistry } from './topics.js';
import type { WakeSignal } from './wake.js';
import type { Writer } from '../rocks/writer.js';

export interface UnitContext {
  readonly topics: TopicRegistry;
  readonly writer: Writer;
  readonly wake: WakeSignal;
}

/**
 * Collects a batch's effects and writes them as one RocksDB batch: output records, store
 * writes and consumed offsets become visible (and durable) together or not at all.
 * Offsets of the output records are assigned at commit(), in commit order.
 */
export class EmbeddedWorkUnit implements WorkUnit {
  private readonly appends: RoutedRecords[] = [];
  private readonly writes: { store: RocksStateStore; ops: readonly StoreOp[] }[] = [];
  private readonly positions = new Map<string, { key: Buffer; value: Buffer }>();
  private committed = false;

  constructor(
    private readonly context: UnitContext,
    readonly group: string,
  ) {}

  append(topic: string, records: readonly OutgoingRecord[]): void {
    this.assertOpen();
    if (records.length > 0) this.appends.push(routeRecords(this.context.topics.get(topic), records, Date.now()));
  }

  write(store: StateStore, ops: readonly StoreOp[]): void {
    this.assertOpen();
    if (!(store instanceof RocksStateStore) || store.group !== this.group) {
      throw new Error(`store ${store.name} was not opened by this log for group ${this.group}`);
    }
    this.writes.push({ store, ops: [...ops] });
  }

  consumed(topic: string, partition: number, nextOffset: number): void {
    this.assertOpen();
    const partitions = this.context.topics.get(topic).partitions.length;
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new RangeError(`topic ${topic} has ${partitions} partitions; consumed() names partition ${partition}`);
    }
    this.positions.set(tpKey(topic, partition), { key: groupOffsetKey(this.group, topic, partition), value: encodeU64(nextOffset) });
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.committed = true;
    if (this.appends.length === 0 && this.writes.length === 0 && this.positions.size === 0) return;

    const plans: PlannedAppend[] = this.appends.map(planAppend);
    const publish = () => {
      for (const plan of plans) plan.release();
      for (const plan of plans) this.context.wake.notify(plan.topic);
    };
    try {
      await this.context.writer.write(
        (batch) => {
          for (const plan of plans) plan.put(batch);
          for (const { store, ops } of this.writes) store.put(batch, ops);
          for (const { key, value } of this.positions.values()) batch.tryPut(key, value);
        },
        true,
        publish,
      );
    } finally {
      publish(); // a failed write leaves a gap that readers step over
    }
  }

  private assertOpen(): void {
    if (this.committed) throw new Error('work unit already committed');
  }
}
