/**
 * A processor together with the runtime that runs it: the stages and the views are
 * written as one class each, their records' logic in `process` and their lifecycle
 * (start, stop, health, dead-letter counts) that of their runtime.
 */
import type { LogRecord } from '../log/port.js';
import type { BufferedStore } from './buffered-store.js';
import type { PoisonRecordPolicy } from './dead-letter.js';
import type { StageHealth } from './health.js';
import { ProcessingRuntime, type RuntimeOptions } from './processing-runtime.js';
import type { Processor, ProcessorContext } from './processor.js';

export abstract class StatefulProcessor<S extends BufferedStore | null = BufferedStore> implements Processor<S> {
  readonly runtime: ProcessingRuntime<S>;

  protected constructor(options: RuntimeOptions) {
    this.runtime = new ProcessingRuntime<S>(options, this);
  }

  abstract process(records: readonly LogRecord[], context: ProcessorContext<S>): Promise<void>;

  start(): Promise<void> {
    return this.runtime.start();
  }

  stop(): Promise<void> {
    return this.runtime.stop();
  }

  /** Resolves when the consumer ends; rejects if its own state failed. */
  get done(): Promise<void> {
    return this.runtime.done;
  }

  /** Running, or failed with the reason its own state gave out; /readyz reports it. */
  get health(): StageHealth {
    return this.runtime.health;
  }

  /** Records it cannot process go to the dead-letter topic, counted by reason. */
  get poison(): PoisonRecordPolicy {
    return this.runtime.poison;
  }
}
