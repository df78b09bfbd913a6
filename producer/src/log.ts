/**
 * The few log calls the publisher makes, in pino's `(fields, message)` form. The CLI passes shared's
 * `createLogger(telemetry, undefined, { stderr: true })`: stderr, because stdout carries the summary,
 * which `--json` turns into a single JSON document for scripts.
 */
export interface PublishLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
