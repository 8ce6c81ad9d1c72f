/**
 * healthy(): whether the cluster answers a cheap request (DescribeCluster) within a short
 * timeout, asked at most once per second; callers in between get the last answer.
 */
import type { Admin } from 'kafkajs';

const CACHE_MS = 1_000;

export class HealthCheck {
  private last: { at: number; ok: boolean } | null = null;
  private probing: Promise<boolean> | null = null;

  constructor(
    /** An admin client without retries, so that one probe is one attempt. */
    private readonly admin: Admin,
    private readonly timeoutMs: number,
  ) {}

  close(): Promise<void> {
    return this.admin.disconnect();
  }

  check(): Promise<boolean> {
    if (this.last !== null && Date.now() - this.last.at < CACHE_MS) return Promise.resolve(this.last.ok);
    this.probing ??= this.probe().then((ok) => {
      this.last = { at: Date.now(), ok };
      this.probing = null;
      return ok;
    });
    return this.probing;
  }

  private async probe(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
    });
    const answer = (async () => {
      await this.admin.connect();
      const { brokers } = await this.admin.describeCluster();
      return brokers.length > 0;
    })().catch(() => false);
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
