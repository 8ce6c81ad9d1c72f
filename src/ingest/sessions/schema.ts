/**
 * Request bodies of the session-events API (after Cognipeer Console's), as zod schemas. Field names are the
 * Cognipeer Console's (camelCase), since that is the contract producers already implement. Objects are
 * loose: fields this version does not interpret are not rejected; they are kept on the
 * spans with everything else the producer sent (see convert.ts).
 */
import { z } from 'zod';
import { tenantParams } from '../../http/validate.js';
import { KEY_PART_LIMITS } from '../../model/key-parts.js';
import { TimeError, toUnixNano } from '../flat/time.js';

/** Event types of Cognipeer Console, plus the kinds other session-event SDKs emit. */
export const EVENT_TYPES = ['llm_call', 'tool_call', 'retrieval', 'custom', 'ai_call', 'embedding', 'summarization', 'guardrail', 'span'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Most events a single request may carry; larger sessions stream or split their batches. */
export const MAX_EVENTS_PER_REQUEST = 10_000;

const MAX_ID_LENGTH = KEY_PART_LIMITS.sessionId;

export const idString = z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);

const timeField = z.union([z.string(), z.number()]).refine(
  (value) => {
    try {
      toUnixNano(value);
      return true;
    } catch (error) {
      if (error instanceof TimeError) return false;
      throw error;
    }
  },
  { message: 'expected an ISO 8601 time or an epoch number (seconds, milliseconds, microseconds or nanoseconds)' },
);

const tokenCount = z.number().int('must be a whole number').min(0, 'must not be negative');
const jsonObject = z.record(z.string(), z.unknown());

const section = z.looseObject({
  /** input, output, system (others are kept, not interpreted). */
  type: z.string().min(1, 'must not be empty'),
  content: z.unknown().optional(),
  role: z.string().optional(),
  name: z.string().optional(),
});
export type Section = z.infer<typeof section>;

const errorField = z.union([
  z.string(),
  z.looseObject({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.union([z.string(), z.number()]).optional(),
    stack: z.string().optional(),
  }),
]);

export const eventSchema = z.looseObject({
  id: idString.optional(),
  type: z.enum(EVENT_TYPES),
  label: z.string().max(1024).optional(),
  name: z.string().max(1024).optional(),
  sequence: z.number().int('must be a whole number').min(0, 'must not be negative').optional(),
  traceId: idString.optional(),
  spanId: idString.optional(),
  parentSpanId: idString.optional(),
  sections: z.array(section).optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  inputTokens: tokenCount.optional(),
  outputTokens: tokenCount.optional(),
  cachedInputTokens: tokenCount.optional(),
  totalTokens: tokenCount.optional(),
  startedAt: timeField.optional(),
  timestamp: timeField.optional(),
  endedAt: timeField.optional(),
  durationMs: z.number().min(0, 'must not be negative').optional(),
  status: z.string().max(64).optional(),
  error: errorField.optional(),
  agentName: z.string().max(256).optional(),
  agent: z.looseObject({ name: z.string().max(256).optional(), id: z.string().optional() }).optional(),
  model: z.string().max(256).optional(),
  provider: z.string().max(256).optional(),
  toolName: z.string().max(256).optional(),
  toolCallId: z.string().max(256).optional(),
  toolArguments: z.unknown().optional(),
  arguments: z.unknown().optional(),
  toolResult: z.unknown().optional(),
  metadata: jsonObject.optional(),
  /** Span attributes set as they are (flat keys, e.g. OTel GenAI names); they win over derived ones. */
  attributes: jsonObject.optional(),
});
export type SessionEvent = z.infer<typeof eventSchema>;

const agentSchema = z.looseObject({
  name: z.string().max(256).optional(),
  id: z.string().max(256).optional(),
  version: z.string().max(256).optional(),
  model: z.string().max(256).optional(),
});

/** Session-level fields, shared by the batch body and the streaming start body. */
const sessionFields = {
  threadId: z.string().max(MAX_ID_LENGTH).optional(),
  traceId: idString.optional(),
  rootSpanId: idString.optional(),
  agent: agentSchema.optional(),
  status: z.string().max(64).optional(),
  startedAt: timeField.optional(),
  endedAt: timeField.optional(),
  durationMs: z.number().min(0, 'must not be negative').optional(),
  summary: jsonObject.optional(),
  metadata: jsonObject.optional(),
  source: z.string().max(64).optional(),
};

export const batchSchema = z.looseObject({
  sessionId: idString,
  ...sessionFields,
  events: z.array(eventSchema).max(MAX_EVENTS_PER_REQUEST, `must hold at most ${MAX_EVENTS_PER_REQUEST} events`).default([]),
});
export type BatchSession = z.infer<typeof batchSchema>;

export const startSchema = z.looseObject({ sessionId: idString.optional(), ...sessionFields });
export type StartSession = z.infer<typeof startSchema>;

export const eventsSchema = z
  .looseObject({
    event: eventSchema.optional(),
    events: z
      .array(eventSchema)
      .min(1, 'must hold at least one event')
      .max(MAX_EVENTS_PER_REQUEST, `must hold at most ${MAX_EVENTS_PER_REQUEST} events`)
      .optional(),
  })
  .refine((body) => body.event !== undefined || body.events !== undefined, { message: 'expected "event" (one event) or "events" (a list)', path: ['event'] });

export type SessionEvents = z.infer<typeof eventsSchema>;

export const endSchema = z.looseObject({
  status: z.string().max(64).optional(),
  endedAt: timeField.optional(),
  durationMs: z.number().min(0, 'must not be negative').optional(),
  summary: jsonObject.optional(),
  metadata: jsonObject.optional(),
});
export type EndSession = z.infer<typeof endSchema>;

export const sessionParams = z.object({ sessionId: idString });
export const tenantSessionParams = tenantParams.extend({ sessionId: idString });
