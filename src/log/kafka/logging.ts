/**
 * kafkajs logs through a `logCreator`; this one forwards warnings and errors to the
 * adapter's logger and drops the rest (kafkajs is very chatty at info). A few warnings
 * describe situations the adapter handles on purpose; they go to debug instead.
 */
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../rocks/logger.js';

/** Messages that start with these are expected and handled by the adapter. */
const EXPECTED = [
  // append.ts bounds the producer's retries and replaces the producer after a failure.
  'Limiting retries for the idempotent producer',
  // Rebalances are part of normal operation (consumer.ts follows them).
  'The group is rebalancing, re-joining',
  // Sent by kafkajs when a consumer leaves while a rejoin is in flight.
  'The coordinator is not aware of this member',
];

export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      // kafkajs logs every error response of a request at error level, also those it
      // retries (a coordinator still loading, a rebalance under way); what finally fails
      // reaches the adapter's callers as a KafkaLogError with the cause.
      const retried = namespace === 'Connection' && message.startsWith('Response ');
      if (retried || EXPECTED.some((prefix) => message.startsWith(prefix))) logger.debug(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
    };
}

/** The level kafkajs is created with, so that it does not even format what is dropped. */
export const KAFKAJS_LOG_LEVEL = logLevel.WARN;
