/**
 * Errors of the routing layer. Each says whether retrying can help (`retriable`), in the manner of
 * kafkajs errors, so callers can decide between backing off and giving up.
 */
export class RoutingError extends Error {
  override readonly name: string = 'RoutingError';
  readonly retriable: boolean;
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable;
  }
}

/** The routeserver did not answer in time, refused the connection or answered 5xx. */
export class RouteserverUnavailableError extends RoutingError {
  override readonly name = 'RouteserverUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** The routeserver answered, but not with routing rules (bad JSON, wrong shape, 4xx). */
export class RouteserverResponseError extends RoutingError {
  override readonly name = 'RouteserverResponseError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, { retriable: status >= 500 || status === 429 || status === 200 });
  }
}

/** The route table has not synced once within the allowed wait, and policy says not to guess. */
export class RouteTableNotSyncedError extends RoutingError {
  override readonly name = 'RouteTableNotSyncedError';
  constructor(waitedMs: number) {
    super(`route table has not synced with the routeserver (waited ${waitedMs} ms)`, { retriable: true });
  }
}

/**
 * A routing-rules watch stream failed or ended. `code` is the gRPC status code (14 UNAVAILABLE when the
 * routeserver cannot be reached, 12 UNIMPLEMENTED when it does not serve the Routes API).
 */
export class RouteserverWatchError extends RoutingError {
  override readonly name = 'RouteserverWatchError';
  constructor(
    message: string,
    readonly code: number,
    cause?: unknown,
  ) {
    super(message, { retriable: true, cause });
  }
}
