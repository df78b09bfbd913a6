import { RoutingError } from '@sandbox-routing/shared';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';

/**
 * gRPC status codes that mean "Temporal is (temporarily) not there": back off and retry, never
 * commit. UNKNOWN(2), DEADLINE_EXCEEDED(4), RESOURCE_EXHAUSTED(8), ABORTED(10), INTERNAL(13), UNAVAILABLE(14).
 */
const RETRIABLE_GRPC = new Set<number>([2, 4, 8, 10, 13, 14]);

/** True when retrying the workflow start later can succeed. */
export function isRetriableStartError(error: unknown): boolean {
  if (error instanceof RoutingError) return error.retriable;
  const grpcError = error instanceof ServiceError ? error.cause : error;
  if (isGrpcServiceError(grpcError)) return RETRIABLE_GRPC.has(grpcError.code);
  // Connection set-up failures surface as plain errors before any gRPC status exists.
  return (
    error instanceof Error && /ECONNREFUSED|ECONNRESET|connect|unavailable|timed? ?out/i.test(error.message)
  );
}

/** Thrown to leave a message uncommitted when the ingress is shutting down mid-retry. */
export class IngressStoppingError extends Error {
  override readonly name = 'IngressStoppingError';
}
