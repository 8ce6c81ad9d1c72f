/**
 * The process's Prometheus metrics, on a registry of its own (never prom-client's global
 * one, so several servers in one process keep separate counts). Counters that others
 * already keep (the trace stage's stats, the rate limiter's buckets, view positions) are
 * read when /metrics is scraped, through collect callbacks, rather than updated twice.
 *
 * No metric carries a tenant label: /metrics is unauthenticated and must not list tenants.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Log } from '../../log/port.js';
import type { DeadLetterCounts } from '../../runtime/dead-letter.js';
import type { DetectorRunObserver } from '../../stages/trace/run-detector.js';
import type { TenantStageStats } from '../../stages/tenant/tenant-stage.js';
import type { TraceStageStats } from '../../stages/trace/trace-stage.js';
import type { Views } from '../../views/views.js';

/** Why an ingest request or span was refused; the `reason` label of the rejection counters. */
export type RejectionReason =
  | 'invalid_span'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'buffer_full'
  | 'log_unavailable'
  | 'timeout'
  | 'client_error'
  | 'internal';

/** Reasons a span is refused after its request was decoded (its span count is known). */
export type SpanRejectionReason = Extract<RejectionReason, 'invalid_span' | 'rate_limited' | 'buffer_full' | 'log_unavailable'>;

/** The rejection reason of an answered request, from its status and error code. */
export function rejectionReason(statusCode: number, errorCode: string | undefined): RejectionReason {
  switch (errorCode) {
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'BUFFER_FULL':
      return 'buffer_full';
    case 'LOG_UNAVAILABLE':
      return 'log_unavailable';
    case 'TIMEOUT':
      return 'timeout';
  }
  switch (statusCode) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
  }
  return statusCode >= 500 ? 'internal' : 'client_error';
}

/** Seconds: 0.5 ms … ~16 s, doubling. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];

/** How long a scrape waits for the log's end offsets before keeping the last lag it saw. */
const VIEW_LAG_TIMEOUT_MS = 1000;

/** What the ingest limits expose to the metrics; see src/http/limits. */
export interface IngestLimitsGauges {
  readonly inflight: { readonly inFlightBytes: number; readonly limitBytes: number };
  readonly rateLimiter: { stats(): { readonly tenants: number; readonly evictedBusy: number } };
}

export interface Metrics {
  readonly registry: Registry;
  /** Ingest requests answered, by route template and status code. */
  readonly ingestRequests: Counter<'route' | 'status'>;
  /** Ingest requests answered 4xx/5xx, by route template and reason. */
  readonly ingestRejectedRequests: Counter<'route' | 'reason'>;
  readonly spansAccepted: Counter;
  readonly spansRejected: Counter<'reason'>;
  readonly httpRequestDuration: Histogram<'method' | 'route'>;
  readonly logAppendDuration: Histogram<'outcome'>;
  /** Reads the trace stage's counters at each scrape. */
  observeTraceStage(stats: Readonly<TraceStageStats>, openWindows: () => number, lag: () => Promise<number>): void;
  observeTenantStage(stats: Readonly<TenantStageStats>): void;
  /** Reports how far the views are behind the log, per topic, at each scrape. */
  observeViews(views: Views, log: Log): void;
  observeIngestLimits(limits: IngestLimitsGauges): void;
  countSpansRejected(reason: SpanRejectionReason, spans: number): void;
  /** Adds a consumer's dead-letter counts to tracefold_dead_letter_records_total{stage, reason}. */
  observeDeadLetters(counts: DeadLetterCounts): void;
  /** Counts detector failures and observes detector durations, per detector. */
  readonly detectorRuns: DetectorRunObserver;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC); on by default. */
  readonly processMetrics?: boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tracefold_' });

  const spansRejected = new Counter({
    name: 'tracefold_ingest_spans_rejected_total',
    help: 'Spans refused after decoding, by reason (invalid_span, rate_limited, buffer_full, log_unavailable)',
    labelNames: ['reason'] as const,
    registers,
  });

  const deadLetterSources: DeadLetterCounts[] = [];
  new Counter({
    name: 'tracefold_dead_letter_records_total',
    help: 'Records moved to tracefold.dead-letter.v1, by stage and reason class (decode, key, encode, view_write, late, analysis, content)',
    labelNames: ['stage', 'reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const counts of deadLetterSources) for (const [reason, count] of counts.entries()) this.inc({ stage: counts.stage, reason }, count);
    },
  });
  const detectorFailures = new Counter({
    name: 'tracefold_detector_failures_total',
    help: 'Detector runs that threw, by detector; only that detector lost its findings',
    labelNames: ['detector'] as const,
    registers,
  });
  const detectorDuration = new Histogram({
    name: 'tracefold_detector_duration_seconds',
    help: 'Time one detector run took, live or at close, by detector',
    labelNames: ['detector'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  /** A counter whose value is read from `read()` at each scrape. */
  const observedCounter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  return {
    registry,
    ingestRequests: new Counter({
      name: 'tracefold_ingest_requests_total',
      help: 'Ingest requests answered, by route and status code',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    ingestRejectedRequests: new Counter({
      name: 'tracefold_ingest_rejected_requests_total',
      help: 'Ingest requests answered with a 4xx or 5xx status, by route and reason',
      labelNames: ['route', 'reason'] as const,
      registers,
    }),
    spansAccepted: new Counter({
      name: 'tracefold_ingest_spans_accepted_total',
      help: 'Spans appended durably to the raw topic',
      registers,
    }),
    spansRejected,
    httpRequestDuration: new Histogram({
      name: 'tracefold_http_request_duration_seconds',
      help: 'HTTP request latency, from receipt to the end of the response, by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    logAppendDuration: new Histogram({
      name: 'tracefold_log_append_duration_seconds',
      help: 'Latency of ingest appends until durable, by outcome (ok, error)',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),

    observeTenantStage(stats) {
      observedCounter('tracefold_tenant_events_total', 'Tenant events applied by the tenant stage', () => stats.eventsProcessed);
      observedCounter('tracefold_tenant_events_unreadable_total', 'Records of tracefold.tenant-events.v1 that could not be processed and were dead-lettered', () => stats.eventsFailed);
      observedCounter('tracefold_audit_records_total', 'Audit chain records appended', () => stats.auditRecords);
      observedCounter('tracefold_baseline_anomalies_total', 'Anomaly detections against tenant baselines', () => stats.anomalies);
      observedCounter('tracefold_calibrations_total', 'Calibration records derived from feedback', () => stats.calibrations);
    },

    observeTraceStage(stats, openWindows, lag) {
      new Gauge({
        name: 'tracefold_trace_stage_lag_records',
        help: 'Records of tracefold.raw.v1 not yet consumed by the trace stage, over the partitions this process holds',
        registers,
        async collect() {
          this.set(await lag());
        },
      });
      new Gauge({
        name: 'tracefold_trace_open_windows',
        help: 'Trace windows open on the partitions this process holds',
        registers,
        collect() {
          this.set(openWindows());
        },
      });
      new Counter({
        name: 'tracefold_detections_emitted_total',
        help: 'Detections emitted by the trace stage (live and final), by detection type',
        labelNames: ['detection_type'] as const,
        registers,
        collect() {
          this.reset();
          for (const [type, count] of Object.entries(stats.detectionsByType)) this.inc({ detection_type: type }, count);
        },
      });
      observedCounter('tracefold_trace_spans_assembled_total', 'Spans added to a trace window', () => stats.spansAssembled);
      observedCounter(
        'tracefold_trace_duplicate_spans_total',
        'Re-sent spans whose ids and content were already held; nothing changed',
        () => stats.duplicateSpans,
      );
      observedCounter(
        'tracefold_trace_replaced_spans_total',
        'Re-sent spans with the same ids and other content, replacing the earlier copy',
        () => stats.replacedSpans,
      );
      observedCounter('tracefold_trace_windows_closed_total', 'Trace windows closed', () => stats.windowsClosed);
      observedCounter(
        'tracefold_trace_late_spans_dead_lettered_total',
        'Spans arriving after the lateness horizon, sent to the dead-letter topic',
        () => stats.lateSpansDeadLettered,
      );
      observedCounter('tracefold_trace_detections_emitted_total', 'Detections emitted by the trace stage', () => stats.detectionsEmitted);
      observedCounter(
        'tracefold_trace_live_detections_emitted_total',
        'Detections the trace stage emitted while their window was open (also in detections_emitted)',
        () => stats.liveDetectionsEmitted,
      );
      observedCounter(
        'tracefold_trace_detections_suppressed_total',
        "Findings not emitted because the tenant's feedback calibration put them below the confidence floor",
        () => stats.detectionsSuppressed,
      );
      observedCounter('tracefold_trace_windows_failed_total', 'Traces whose analysis failed, sent to the dead-letter topic', () => stats.windowsFailed);
    },

    observeViews(views, log) {
      new Gauge({
        name: 'tracefold_view_lag_records',
        help: 'Records appended to a topic that this process has not yet applied to its views',
        labelNames: ['topic'] as const,
        registers,
        async collect() {
          for (const topic of views.topics) {
            try {
              const ends = await withTimeout(log.endOffsets(topic), VIEW_LAG_TIMEOUT_MS);
              this.set({ topic }, views.positions.lag(topic, ends));
            } catch {
              // The log is not answering: keep the last value; /readyz says the log is down.
            }
          }
        },
      });
    },

    observeIngestLimits(limits) {
      new Gauge({
        name: 'tracefold_ingest_inflight_bytes',
        help: 'Encoded bytes of ingest appends in flight',
        registers,
        collect() {
          this.set(limits.inflight.inFlightBytes);
        },
      });
      new Gauge({
        name: 'tracefold_ingest_inflight_limit_bytes',
        help: 'Bound on ingest bytes in flight (TRACEFOLD_INGEST_INFLIGHT_BYTES)',
        registers,
        collect() {
          this.set(limits.inflight.limitBytes);
        },
      });
      new Gauge({
        name: 'tracefold_rate_limiter_tenants',
        help: 'Tenants with a rate-limit bucket held in this process',
        registers,
        collect() {
          this.set(limits.rateLimiter.stats().tenants);
        },
      });
      observedCounter(
        'tracefold_rate_limiter_evicted_busy_total',
        'Rate-limit buckets evicted before they refilled because the tenant map was full',
        () => limits.rateLimiter.stats().evictedBusy,
      );
    },

    countSpansRejected(reason, spans) {
      if (spans > 0) spansRejected.inc({ reason }, spans);
    },

    observeDeadLetters(counts) {
      deadLetterSources.push(counts);
    },

    detectorRuns: {
      observe(detector, seconds, error) {
        detectorDuration.observe({ detector }, seconds);
        if (error !== undefined) detectorFailures.inc({ detector });
      },
    },
  };
}
