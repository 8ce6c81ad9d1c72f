/**
 * Tenant, key and settings changes: each goes to tracefold.tenants.v1 (what every process
 * checks credentials and settings against) and, as an audited fact, to
 * tracefold.tenant-events.v1, in one unit, then waits until this process's views hold it,
 * so the caller's next request sees the change (a revoked key fails at once).
 */
import { TOPICS } from '../log/topics.js';
import type { TenantRegistryEvent } from '../model/outputs.js';
import type { TenantStageEvent } from '../model/tenant-records.js';
import { tenantStageEvent, tenantStageRecord } from '../stages/tenant/events.js';
import type { AppContext } from '../http/context.js';
import { appendAllAndWait } from '../http/write-through.js';

/** The compaction key: the latest event per tenant, per key and per tenant's settings is the state. */
function tenantRegistryEventKey(e: TenantRegistryEvent): string {
  switch (e.type) {
    case 'tenant_created':
      return `tenant/${e.tenantId}`;
    case 'api_key_created':
    case 'api_key_revoked':
      return `key/${e.keyId}`;
    case 'tenant_settings_changed':
      return `settings/${e.tenantId}`;
  }
}

/** What the audit chain records of a change: never a secret or its hash. */
function auditedFact(e: TenantRegistryEvent): TenantStageEvent {
  switch (e.type) {
    case 'tenant_created':
      return tenantStageEvent(e.tenantId, 'tenant_created', e.tenantId, e.atMs, { tenantId: e.tenantId, name: e.name });
    case 'api_key_created':
      return tenantStageEvent(e.tenantId, 'api_key_created', e.keyId, e.atMs, { tenantId: e.tenantId, keyId: e.keyId });
    case 'api_key_revoked':
      return tenantStageEvent(e.tenantId, 'api_key_revoked', e.keyId, e.atMs, { tenantId: e.tenantId, keyId: e.keyId });
    case 'tenant_settings_changed':
      return tenantStageEvent(e.tenantId, 'settings_changed', e.tenantId, e.atMs, { baselineSigma: e.baselineSigma, baselineMinSamples: e.baselineMinSamples });
  }
}

export async function recordTenantEvents(ctx: AppContext, events: readonly TenantRegistryEvent[]): Promise<void> {
  await appendAllAndWait(
    ctx,
    [
      {
        topic: TOPICS.tenants,
        records: await Promise.all(events.map(async (e) => ({ key: Buffer.from(tenantRegistryEventKey(e)), value: await ctx.codecs.tenantRegistryEvent.encode(e), timestamp: e.atMs }))),
      },
      { topic: TOPICS.tenantEvents, records: await Promise.all(events.map((e) => tenantStageRecord(ctx.codecs, auditedFact(e)))) },
    ],
    [TOPICS.tenants],
  );
}
