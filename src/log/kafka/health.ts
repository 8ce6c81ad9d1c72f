/**
 * Whether the cluster answers a cheap request (DescribeCluster). Probed in the background
 * once a second, each probe bounded by a timeout; check() answers at once from the last
 * probe, so /readyz never waits on a cluster that is away.
 */
import type { Admin } from 'kafkajs';

const PROBE_INTERVAL_MS = 1_000;

export class HealthCheck {
  private ok = true;
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private closed = false;

  constructor(
    /** An admin client without retries, so that one probe is one attempt. */
    private readonly admin: Admin,
    private readonly timeoutMs: number,
  ) {}

  /** Probes once (the first answer is known when this resolves), then every second. */
  async start(): Promise<void> {
    await this.probeOnce();
    if (this.closed) return;
    this.timer = setInterval(() => void this.probeOnce(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.probing;
    await this.admin.disconnect();
  }

  /** The last probe's answer. */
  check(): boolean {
    return this.ok;
  }

  /** One probe at a time: a slow one is not stacked on. */
  private probeOnce(): Promise<void> {
    this.probing ??= this.probe()
      .then((ok) => {
        if (!this.closed) this.ok = ok;
      })
      .finally(() => (this.probing = null));
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
