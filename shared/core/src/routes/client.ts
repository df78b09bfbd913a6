import { isValidRoutingKey } from '../routing-key';
import { RouteserverResponseError, RouteserverUnavailableError } from './errors';
import type { RoutingRule, WorkloadRef } from './types';

/** Query filters of `GET /api/v1/workloads/routing-rules`; each narrows the result. */
export interface RoutingRulesFilter {
  baselineKind?: string;
  baselineNamespace?: string;
  baselineName?: string;
  routingKey?: string;
  destinationSandboxName?: string;
}

export interface RouteserverClientOptions {
  /** Base URL, e.g. `http://routeserver.signadot.svc:7778`. */
  url: string;
  /** Timeout of each request. */
  requestTimeoutMs: number;
}

const PATH = '/api/v1/workloads/routing-rules';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWorkload(value: unknown): value is WorkloadRef {
  return (
    isObject(value) &&
    typeof value.kind === 'string' &&
    typeof value.namespace === 'string' &&
    typeof value.name === 'string'
  );
}

/**
 * Parses a routing-rules response body. `routingRules` may be absent (the real server omits an empty
 * list). Any rule of the wrong shape rejects the whole response: acting on part of a table could
 * route a key to the baseline that a sandbox owns.
 */
export function parseRoutingRules(body: unknown): RoutingRule[] {
  if (!isObject(body)) throw new RouteserverResponseError('routing-rules response is not a JSON object', 200);
  const rules = body.routingRules;
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw new RouteserverResponseError('routingRules is not an array', 200);
  return rules.map((rule, index) => {
    if (
      !isObject(rule) ||
      typeof rule.routingKey !== 'string' ||
      !isWorkload(rule.baseline) ||
      !isObject(rule.destinationSandbox) ||
      typeof rule.destinationSandbox.name !== 'string'
    ) {
      throw new RouteserverResponseError(`routingRules[${index}] is not a routing rule`, 200);
    }
    const { kind, namespace, name } = rule.baseline;
    return {
      routingKey: rule.routingKey,
      baseline: { kind, namespace, name },
      destinationSandbox: { name: rule.destinationSandbox.name },
    };
  });
}

/** Where a route table gets its rules: the HTTP client below, or e.g. a gRPC watch of your own. */
export interface RoutingRulesSource {
  getRoutingRules(filter: RoutingRulesFilter): Promise<RoutingRule[]>;
}

/** A small client of Signadot's routeserver HTTP API (the real one or the local stand-in). */
export class RouteserverClient implements RoutingRulesSource {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: RouteserverClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.requestTimeoutMs;
  }

  /**
   * Fetches the routing rules matching `filter`.
   * @throws RouteserverUnavailableError when the server cannot be reached in time (retriable)
   * @throws RouteserverResponseError when the answer is not a routing-rules response
   */
  /**
   * Whether `sandbox` forks `baseline` now, asked fresh (no cached rules): what a consumer asks before it
   * creates a sandbox's forward topic, or a teardown before it removes one.
   * @throws RouteserverUnavailableError (retriable)
   */
  async forks(sandbox: string, baseline: WorkloadRef): Promise<boolean> {
    const rules = await this.getRoutingRules({
      baselineKind: baseline.kind,
      baselineNamespace: baseline.namespace,
      baselineName: baseline.name,
      destinationSandboxName: sandbox,
    });
    return rules.length > 0;
  }

  async getRoutingRules(filter: RoutingRulesFilter): Promise<RoutingRule[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value) query.set(key, value);
    const target = `${this.url}${PATH}?${query}`;
    let response: Response;
    try {
      response = await fetch(target, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs} ms`
          : String((error as Error)?.cause ?? error);
      throw new RouteserverUnavailableError(`routeserver ${this.url} unreachable: ${reason}`, error);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new RouteserverUnavailableError(`routeserver ${this.url} answered ${response.status}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RouteserverResponseError(
        `routeserver ${this.url} answered ${response.status}`,
        response.status,
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      const name = (error as Error)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new RouteserverUnavailableError(
          `routeserver ${this.url}: body not received within ${this.timeoutMs} ms`,
          error,
        );
      }
      throw new RouteserverResponseError(
        `routeserver ${this.url} sent malformed JSON: ${(error as Error).message}`,
        200,
      );
    }
    // A key that could never be valid on a message can never match; dropping it keeps the table clean.
    return parseRoutingRules(body).filter((rule) => isValidRoutingKey(rule.routingKey));
  }
}
