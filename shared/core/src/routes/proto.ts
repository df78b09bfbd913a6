/**
 * Signadot's Routes API over gRPC (`routes.Routes`, shared/core/proto/routes.proto), loaded at run time with
 * `@grpc/proto-loader`. Objects use camelCase field names (`routingKey`, `destinationSandbox`,
 * `baselineWorkload`), the same spelling as the HTTP API, and enums as their names (`'SYNCED'`).
 * Imports nothing else from the library, so the routeserver stand-in can load it on its own.
 */
import path from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

/** Absolute path of routes.proto (from dist/routes or src/routes of this package alike). */
export const ROUTES_PROTO_PATH = path.resolve(__dirname, '..', '..', 'proto', 'routes.proto');

/** Fully qualified service name, as in `/routes.Routes/WatchWorkloadRoutingRules`. */
export const ROUTES_SERVICE = 'routes.Routes';

/**
 * How messages map to JS: `defaults` so that an ADD (enum value 0, omitted on the wire) still reads
 * `'ADD'`, and an unset string reads `''` as in Go.
 */
export const ROUTES_PROTO_OPTIONS: Options = {
  keepCase: false,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
};

export type WatchOpName = 'ADD' | 'REMOVE' | 'REPLACE' | 'SYNCED';

export interface BaselineWorkloadMessage {
  kind: string;
  namespace: string;
  name: string;
}

export interface WorkloadRoutingRuleMessage {
  routingKey: string;
  baseline: BaselineWorkloadMessage | null;
  destinationSandbox: { name: string } | null;
  mappings: Array<{ workloadPort: number; destinations: Array<{ host: string; port: number }> }>;
}

export interface WorkloadRoutingRulesRequestMessage {
  baselineWorkload?: Partial<BaselineWorkloadMessage> | null;
  routingKey?: string;
  destinationSandbox?: { name?: string } | null;
}

export interface GetWorkloadRoutingRulesResponseMessage {
  routingRules: WorkloadRoutingRuleMessage[];
}

export interface WorkloadRoutingRuleOpMessage {
  op: WatchOpName;
  route: WorkloadRoutingRuleMessage | null;
}

let cached: ServiceDefinition | undefined;

/**
 * The `routes.Routes` service definition: method paths and (de)serializers, for a `grpc.Client`
 * (`makeServerStreamRequest`) or a `grpc.Server` (`addService`). Parsed once per process.
 */
export function routesServiceDefinition(): ServiceDefinition {
  // Loaded on first use: a process that only polls (or only reads the key) never pays for protobuf.
  const { loadSync } = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  cached ??= loadSync(ROUTES_PROTO_PATH, ROUTES_PROTO_OPTIONS)[ROUTES_SERVICE] as ServiceDefinition;
  return cached;
}
