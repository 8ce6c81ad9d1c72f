/**
 * Whether a consumer (a stage, the views, the calibration reader) is still consuming. A
 * record's content never stops one (dead-letter.ts); its own state failing does, and then
 * the status says so with the reason, for /readyz.
 */
import type { Logger } from 'pino';

export type StageStatus = { readonly state: 'running' } | { readonly state: 'failed'; readonly reason: string };

export class StageHealth {
  private current: StageStatus = { state: 'running' };

  constructor(readonly name: string) {}

  get status(): StageStatus {
    return this.current;
  }

  /** Follows a consumer's `done`: a rejection marks the stage failed and is logged once. */
  watch(done: Promise<void>, logger: Logger): void {
    this.current = { state: 'running' };
    done.catch((err: unknown) => {
      this.current = { state: 'failed', reason: err instanceof Error ? err.message : String(err) };
      logger.error({ err, stage: this.name }, `${this.name} stopped on an error`);
    });
  }
}
