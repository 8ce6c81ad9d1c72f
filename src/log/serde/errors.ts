import { TracefoldError } from '../../model/errors.js';

/**
 * A value that cannot be encoded or a buffer that cannot be decoded. Permanent: the same
 * bytes or value fail again, so callers dead-letter or fix the data rather than retry.
 */
export class SerdeError extends TracefoldError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SERDE_ERROR', 500, message, options);
    this.name = 'SerdeError';
  }
}
