/**
 * Topic declarations: one JSON file per topic in
 * topics/, validated here and handed to `Log.ensureTopics`. The files, with schemas/,
 * are the public interface downstream subscribers rely on.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { TopicDeclaration } from './port.js';

export const TOPICS = {
  raw: 'tracefold.raw.v1',
  traces: 'tracefold.traces.v1',
  detections: 'tracefold.detections.v1',
  metrics: 'tracefold.metrics.v1',
  feedback: 'tracefold.feedback.v1',
  tenants: 'tracefold.tenants.v1',
  sessions: 'tracefold.sessions.v1',
  deadLetter: 'tracefold.dead-letter.v1',
  tenantEvents: 'tracefold.tenant-events.v1',
  audit: 'tracefold.audit.v1',
  calibration: 'tracefold.calibration.v1',
  baselines: 'tracefold.baselines.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** topics/ at the package root; the same relative path holds from src/ and dist/. */
export const TOPIC_DIR: URL = new URL('../../topics/', import.meta.url);

// Set through the declaration's own fields, so the two can never disagree.
const RESERVED_CONFIG = ['cleanup.policy', 'retention.ms'];

const declarationSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 letters, digits, dots, underscores or dashes'),
  partitions: z.number().int().min(1),
  cleanupPolicy: z.enum(['delete', 'compact']),
  retentionMs: z
    .number()
    .int()
    .refine((ms) => ms === -1 || ms > 0, 'must be -1 (forever) or a positive number of milliseconds'),
  key: z.string().min(1),
  valueSchema: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must name a file of schemas/ without .avsc'),
  description: z.string().min(1),
  config: z
    .record(z.string(), z.string())
    .refine((config) => !RESERVED_CONFIG.some((k) => k in config), `must not set ${RESERVED_CONFIG.join(' or ')}; use cleanupPolicy and retentionMs`)
    .optional(),
});

export class TopicDeclarationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TopicDeclarationError';
  }
}

function problems(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.join(', ')}: unknown field`
        : `${issue.path.join('.') || '(file)'}: ${issue.message}`,
    )
    .join('; ');
}

/** Parses and validates one declaration; `source` names the file in errors. */
export function parseTopicDeclaration(source: string, json: unknown): TopicDeclaration {
  const result = declarationSchema.safeParse(json);
  if (!result.success) throw new TopicDeclarationError(`${source}: ${problems(result.error)}`);
  return result.data;
}

/**
 * Reads every `*.json` of `dir` (default: topics/), in file name order. Errors name the
 * file (as `<dir name>/<file>`) and the field; two files declaring one topic name are an error too.
 */
export async function loadTopicDeclarations(dir: URL | string = TOPIC_DIR): Promise<TopicDeclaration[]> {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files = (await readdir(path)).filter((file) => file.endsWith('.json')).sort();
  const declarations: TopicDeclaration[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const source = join(basename(path), file);
    const text = await readFile(join(path, file), 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TopicDeclarationError(`${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    const declaration = parseTopicDeclaration(source, json);
    const other = seen.get(declaration.name);
    if (other !== undefined) throw new TopicDeclarationError(`${source}: name: topic ${declaration.name} is already declared by ${other}`);
    seen.set(declaration.name, source);
    declarations.push(declaration);
  }
  return declarations;
}
