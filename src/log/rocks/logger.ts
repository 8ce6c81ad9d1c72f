/** The slice of a pino logger the embedded log writes to. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const ignore = (): void => undefined;

export const silentLogger: Logger = { info: ignore, warn: ignore, error: ignore, debug: ignore };
