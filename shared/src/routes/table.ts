import type { RoutingRulesSource } from './client';
import { RouteTableNotSyncedError } from './errors';
import { type RoutingLogger, silentLogger } from './logger';
import { BASELINE_OWNER, type Owner, type RoutingRule, sameWorkload, type WorkloadRef } from './types';

export interface RouteTableOptions {
  /** Usually a `RouteserverClient`. */
  client: RoutingRulesSource;
  /** The baseline workload whose rules this table holds (one table per baseline workload). */
  baseline: WorkloadRef;
  /** Interval of the periodic refresh. */
  refreshIntervalMs: number;
  /** Minimum gap between re-fetches triggered by a key the table does not know. */
  unknownKeyRefetchIntervalMs: number;
  /** How long `ownerOf` waits for the first successful sync before giving up. */
  firstSyncTimeoutMs: number;
  logger?: RoutingLogger;
}

/** Counters and ages for metrics and health checks. */
export interface RouteTableStats {
  synced: boolean;
  /** Time since the last successful fetch; undefined before the first. */
  snapshotAgeMs: number | undefined;
  rules: number;
  keys: number;
  fetches: number;
  fetchErrors: number;
  /** Fetches triggered by an unknown key (a subset of `fetches`). */
  unknownKeyRefetches: number;
  lastError: string | undefined;
}

/**
 * The routing rules of one baseline workload, kept fresh from the routeserver.
 *
 * - Refreshes every `refreshIntervalMs`; concurrent refreshes share one request (single-flight).
 * - A key it does not know triggers a re-fetch, at most one per `unknownKeyRefetchIntervalMs`, so a
 *   sandbox created a moment ago is found without waiting for the next refresh.
 * - A failed fetch keeps the last good snapshot; its age keeps growing and is reported.
 * - Before the first successful fetch it answers nothing: `ownerOf` waits up to `firstSyncTimeoutMs`.
 */
export class RouteTable {
  readonly baseline: WorkloadRef;
  private readonly options: Required<RouteTableOptions>;
  /** routing key → sandbox names claiming it for this baseline (sorted). */
  private snapshot: Map<string, string[]> | undefined;
  private ruleCount = 0;
  private lastSuccessAt: number | undefined;
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private readonly counters = { fetches: 0, fetchErrors: 0, unknownKeyRefetches: 0 };
  private lastError: string | undefined;
  private readonly warnedConflicts = new Set<string>();
  private readonly syncWaiters = new Set<() => void>();

  constructor(options: RouteTableOptions) {
    // `??`, not a spread default: an explicit `logger: undefined` must not erase the fallback.
    this.options = { ...options, logger: options.logger ?? silentLogger };
    this.baseline = options.baseline;
  }

  /** Starts the first fetch and the periodic refresh. Returns `this` for chaining. */
  start(): this {
    if (this.timer || this.stopped) return this;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops refreshing and waits for a fetch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight;
    for (const wake of this.syncWaiters) wake();
  }

  get synced(): boolean {
    return this.snapshot !== undefined;
  }

  /** Fetches the rules now, or joins the fetch already in flight. Never rejects. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    this.lastFetchStartedAt = Date.now();
    this.counters.fetches++;
    const { kind, namespace, name } = this.baseline;
    try {
      const rules = await this.options.client.getRoutingRules({
        baselineKind: kind,
        baselineNamespace: namespace,
        baselineName: name,
      });
      this.install(rules);
      if (this.failing) this.options.logger.info({ baseline: this.baseline }, 'routeserver reachable again');
      this.failing = false;
    } catch (error) {
      this.counters.fetchErrors++;
      this.lastError = error instanceof Error ? error.message : String(error);
      // Log the transition to failing once at warn, then at debug, so an outage does not flood the log.
      const level = this.failing ? 'debug' : 'warn';
      this.failing = true;
      this.options.logger[level](
        { baseline: this.baseline, error: this.lastError, snapshotAgeMs: this.stats().snapshotAgeMs },
        'routing rules fetch failed; keeping the last snapshot',
      );
    }
  }

  private install(rules: RoutingRule[]): void {
    const byKey = new Map<string, string[]>();
    let count = 0;
    for (const rule of rules) {
      // The server filters by baseline already; a rule for another workload must never route ours.
      if (!sameWorkload(rule.baseline, this.baseline)) continue;
      count++;
      const sandboxes = byKey.get(rule.routingKey) ?? [];
      if (!sandboxes.includes(rule.destinationSandbox.name)) sandboxes.push(rule.destinationSandbox.name);
      byKey.set(rule.routingKey, sandboxes);
    }
    for (const [key, sandboxes] of byKey) {
      sandboxes.sort();
      if (sandboxes.length > 1 && !this.warnedConflicts.has(key)) {
        this.warnedConflicts.add(key);
        this.options.logger.warn(
          { routingKey: key, sandboxes, chosen: sandboxes[0] },
          'several sandboxes fork this workload under one routing key; choosing the first by name',
        );
      }
    }
    const firstSync = this.snapshot === undefined;
    this.snapshot = byKey;
    this.ruleCount = count;
    this.lastSuccessAt = Date.now();
    if (firstSync) {
      this.options.logger.info({ baseline: this.baseline, rules: count }, 'route table synced');
      for (const wake of this.syncWaiters) wake();
    }
  }

  /** Waits until the first successful sync or the timeout; true when synced. */
  async waitForFirstSync(timeoutMs = this.options.firstSyncTimeoutMs): Promise<boolean> {
    if (this.synced || this.stopped) return this.synced;
    let wake = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.syncWaiters.add(wake);
    const timer = setTimeout(wake, timeoutMs);
    try {
      await woken;
    } finally {
      clearTimeout(timer);
      this.syncWaiters.delete(wake);
    }
    return this.synced;
  }

  /** The owner in the current snapshot, without waiting or fetching; undefined before the first sync. */
  peekOwner(key: string | undefined): Owner | undefined {
    if (!key) return BASELINE_OWNER;
    const sandboxes = this.snapshot?.get(key);
    if (this.snapshot === undefined) return undefined;
    return sandboxes?.[0] !== undefined ? { kind: 'sandbox', sandboxName: sandboxes[0] } : BASELINE_OWNER;
  }

  /**
   * Who owns `key` for this table's baseline workload. An empty key is always the baseline's. A key no
   * rule names triggers one rate-limited re-fetch before the answer "baseline".
   * @throws RouteTableNotSyncedError when the table has not synced within `firstSyncTimeoutMs`
   */
  async ownerOf(key: string | undefined): Promise<Owner> {
    if (!key) return BASELINE_OWNER;
    if (!this.synced) {
      const started = Date.now();
      if (!(await this.waitForFirstSync())) throw new RouteTableNotSyncedError(Date.now() - started);
    }
    let owner = this.peekOwner(key) as Owner;
    if (owner.kind === 'baseline') {
      if (this.inflight) {
        await this.inflight;
      } else if (Date.now() - this.lastFetchStartedAt >= this.options.unknownKeyRefetchIntervalMs) {
        this.counters.unknownKeyRefetches++;
        await this.refresh();
      }
      owner = this.peekOwner(key) as Owner;
    }
    return owner;
  }

  stats(): RouteTableStats {
    return {
      synced: this.synced,
      snapshotAgeMs: this.lastSuccessAt === undefined ? undefined : Date.now() - this.lastSuccessAt,
      rules: this.ruleCount,
      keys: this.snapshot?.size ?? 0,
      ...this.counters,
      lastError: this.lastError,
    };
  }
}
