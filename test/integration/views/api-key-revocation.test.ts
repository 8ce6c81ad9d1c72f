/**
 * API keys checked through the views' in-memory cache, on a real embedded log: a key
 * served from the cache is refused on the first check after its revocation is applied by
 * the views, and a key unknown at first is accepted once its creation is.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callerFromApiKey } from '../../../src/http/auth.js';
import { issueApiKey } from '../../../src/http/credentials.js';
import { createEmbeddedLog, type EmbeddedLog } from '../../../src/log/embedded/index.js';
import { createCodecs, LocalSchemaIds, type Codecs } from '../../../src/log/serde/index.js';
import { loadTopicDeclarations, TOPICS } from '../../../src/log/topics.js';
import type { TenantRegistryEvent } from '../../../src/model/outputs.js';
import { ViewQueries } from '../../../src/views/queries.js';
import { Views } from '../../../src/views/views.js';
import { tempDir } from '../log/helpers.js';

const TENANT = 'acme';
const logger = pino({ level: 'silent' });

let dir: Awaited<ReturnType<typeof tempDir>>;
let log: EmbeddedLog;
let codecs: Codecs;
let views: Views;
let ctx: { views: Views; queries: ViewQueries };

beforeEach(async () => {
  dir = await tempDir();
  log = await createEmbeddedLog({ dataDir: dir.path });
  await log.ensureTopics(await loadTopicDeclarations());
  codecs = await createCodecs(new LocalSchemaIds());
  views = new Views({ log, codecs, group: 'tracefold-views', logger });
  await views.start();
  ctx = { views, queries: new ViewQueries(views.readStore, codecs) };
});

afterEach(async () => {
  await views.stop();
  await log.close();
  await dir.remove();
});

/** Appends tenant events and waits until the views applied them, as the API's write-through does. */
async function record(...events: TenantRegistryEvent[]): Promise<void> {
  await log.append(
    TOPICS.tenants,
    await Promise.all(events.map(async (e) => ({ key: Buffer.from(`key/${'keyId' in e ? e.keyId : e.tenantId}`), value: await codecs.tenantRegistryEvent.encode(e), timestamp: e.atMs }))),
  );
  await views.catchUp([TOPICS.tenants], 10_000);
}

describe('API key checks through the cache', () => {
  it('refuse a cached key on the first check after its revocation is applied', async () => {
    const key = issueApiKey();
    await record({ type: 'api_key_created', tenantId: TENANT, keyId: key.keyId, secretHash: key.secretHash, atMs: 1 });
    expect(await callerFromApiKey(ctx, key.apiKey)).toEqual({ tenantId: TENANT, keyId: key.keyId });
    expect(await callerFromApiKey(ctx, key.apiKey)).toEqual({ tenantId: TENANT, keyId: key.keyId });
    expect(views.apiKeys.size).toBe(1);

    await record({ type: 'api_key_revoked', tenantId: TENANT, keyId: key.keyId, atMs: 2 });
    await expect(callerFromApiKey(ctx, key.apiKey)).rejects.toThrow('api_key has been revoked');
  });

  it('accept a key that was unknown at its first check once its creation is applied', async () => {
    const key = issueApiKey();
    await expect(callerFromApiKey(ctx, key.apiKey)).rejects.toThrow('api_key is not valid');
    await record({ type: 'api_key_created', tenantId: TENANT, keyId: key.keyId, secretHash: key.secretHash, atMs: 1 });
    expect(await callerFromApiKey(ctx, key.apiKey)).toEqual({ tenantId: TENANT, keyId: key.keyId });
  });

  it('still check the secret of a cached key', async () => {
    const key = issueApiKey();
    await record({ type: 'api_key_created', tenantId: TENANT, keyId: key.keyId, secretHash: key.secretHash, atMs: 1 });
    await callerFromApiKey(ctx, key.apiKey);
    await expect(callerFromApiKey(ctx, `tfk_${key.keyId}_${'x'.repeat(43)}`)).rejects.toThrow('api_key is not valid');
  });
});
