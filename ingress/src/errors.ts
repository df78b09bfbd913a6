import { RoutingError } from '@sandbox-routing/core';
import {
  isGrpcServiceError,
  NamespaceNotFoundError,
  ServiceError,
  ValueError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';

/** gRPC status names by number (grpc's `status.h`; fixed by the protocol). */
const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const NOT_FOUND = 5;

/**
 * gRPC status codes with which the server says "no" to the start it read: the same request gets the
 * same answer however often it is sent, so the event is dead-lettered (with the answer).
 *
 * Every other code says the start was not judged, or not in time: CANCELLED and DEADLINE_EXCEEDED (a
 * call slower than its deadline: the server may still have started the workflow), UNAVAILABLE, UNKNOWN,
 * INTERNAL and DATA_LOSS (the transport failed), RESOURCE_EXHAUSTED and ABORTED (try later), and
 * UNAUTHENTICATED (the caller's credentials were not accepted, e.g. while a key is rotated, or a token
 * source failed on the client: nothing was said about the event). Those are retried with back-off.
 */
const REFUSING_GRPC_CODES: ReadonlySet<number> = new Set([
  3, // INVALID_ARGUMENT: e.g. a search attribute the namespace does not have, a payload too large
  NOT_FOUND, // the namespace (or another named resource) does not exist
  6, // ALREADY_EXISTS (the workflow's own "already started" is handled before this)
  7, // PERMISSION_DENIED: the caller is known and not allowed to start it
  9, // FAILED_PRECONDITION
  11, // OUT_OF_RANGE
  12, // UNIMPLEMENTED: the server does not have this call
]);

/** A gRPC status answer: its code, name and message (grpc's `details`). */
export interface GrpcAnswer {
  code: number;
  name: string;
  message: string;
}

/** What a failed workflow start came to, and why. */
export interface StartFailure {
  /** The start was refused for good: dead-letter the event (else back off and try again). */
  final: boolean;
  /** The gRPC status answer behind the error, when there is one. */
  grpc?: GrpcAnswer;
  /** One line for logs and the dead-letter detail, naming the gRPC status when there is one. */
  description: string;
}

/** The name of a gRPC status code (`UNKNOWN_STATUS_<n>` for a code outside the protocol's list). */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? `UNKNOWN_STATUS_${code}`;
}

/**
 * The gRPC status answer behind a Temporal client error, if there is one. The client turns some
 * answers into errors of their own, without the status: NOT_FOUND into `NamespaceNotFoundError` and
 * `WorkflowNotFoundError`.
 */
export function grpcAnswerOf(error: unknown): GrpcAnswer | undefined {
  if (error instanceof NamespaceNotFoundError || error instanceof WorkflowNotFoundError)
    return { code: NOT_FOUND, name: grpcStatusName(NOT_FOUND), message: error.message };
  const candidate = error instanceof ServiceError ? error.cause : error;
  if (!isGrpcServiceError(candidate)) return undefined;
  const { code } = candidate;
  return { code, name: grpcStatusName(code), message: candidate.details || candidate.message };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a failed workflow start is final, and why. Only answers that retrying cannot change are
 * final: a refusal by the server ({@link REFUSING_GRPC_CODES}), a routing error that says so, or an
 * event that cannot be encoded into a request (a payload converter's `ValueError`). Anything else — a
 * timeout, a cancellation, any other status, an error with no status at all — is "not now": the start
 * may even have happened, and the retry finds it "already started".
 */
export function classifyStartError(error: unknown): StartFailure {
  if (error instanceof RoutingError) return { final: !error.retriable, description: messageOf(error) };
  const grpc = grpcAnswerOf(error);
  if (grpc) {
    return {
      final: REFUSING_GRPC_CODES.has(grpc.code),
      grpc,
      description: `${messageOf(error)}: ${grpc.name} (${grpc.code}) ${grpc.message}`,
    };
  }
  // The workflow's arguments cannot be serialised (a payload converter's ValueError): this event's
  // request can never be made.
  const final = error instanceof ValueError;
  const name = error instanceof Error ? error.name : typeof error;
  return { final, description: `${name}: ${messageOf(error)}` };
}

/** True when retrying a workflow start later can succeed (see {@link classifyStartError}). */
export function isRetriableStartError(error: unknown): boolean {
  if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
  return !classifyStartError(error).final;
}
