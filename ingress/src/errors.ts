import { RoutingError } from '@sandbox-routing/shared';
import { isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

/**
 * gRPC status codes of a Temporal call that mean "not now" (the server is away, overloaded, or did not
 * answer before the call's deadline): back off and retry, never commit. UNKNOWN(2) is included because
 * connection resets surface as it. Everything else (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED,
 * FAILED_PRECONDITION, UNAUTHENTICATED, …) is an answer that retrying will not change.
 */
const RETRIABLE_GRPC = new Set<number>([
  2, // UNKNOWN
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL
  14, // UNAVAILABLE
]);

/** The gRPC status code behind a Temporal client error, if there is one. */
export function grpcStatusOf(error: unknown): number | undefined {
  const candidate = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(candidate) ? candidate.code : undefined;
}

/**
 * True when retrying a workflow start later can succeed: a route table that is not synced yet or a
 * routeserver that is away (their errors say so in `retriable`), or a Temporal call that failed with
 * one of the retriable gRPC status codes. Decided on status codes, never on message text: an error
 * without a status (a bug, a refusal) is not retriable.
 */
export function isRetriableStartError(error: unknown): boolean {
  if (error instanceof RoutingError) return error.retriable;
  if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
  const code = grpcStatusOf(error);
  return code !== undefined && RETRIABLE_GRPC.has(code);
}
