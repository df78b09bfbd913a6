/** The logging the routing layer needs; a pino logger satisfies it. */
export interface RoutingLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const noop = () => undefined;
export const silentLogger: RoutingLogger = { debug: noop, info: noop, warn: noop, error: noop };
