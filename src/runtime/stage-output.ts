import type { OutgoingRecord } from '../log/port.js';

/** An output a batch produced, appended when its unit commits (the processor's and the dead-letter policy's). */
export interface StageOutput {
  readonly topic: string;
  readonly record: OutgoingRecord;
}
