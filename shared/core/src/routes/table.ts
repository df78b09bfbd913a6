import type { RoutingRulesFilter, RoutingRulesSource } from './client';
import { RouteTableNotSyncedError } from './errors';
import { type RoutingLogger, silentLogger } from './logger';
import { BASELINE_OWNER, type Owner, type RoutingRule, sameWorkload, type WorkloadRef } from './types';
import type { RoutingRuleChange, RoutingRulesWatch, RoutingRulesWatchSource, WatchEnded } from './watch';

export interface RouteTableOptions {
  /** HTTP source, usually a `RouteserverClient`: polling mode, and the fallback of the watch. */
  client: RoutingRulesSource;
  /** gRPC watch, usually a `RouteserverWatchClient`. When set the table watches; else it polls. */
  watch?: RoutingRulesWatchSource;
  /** The baseline workload whose rules this table holds: its own (`ownerOf(key)` answers for it). */
  baseline: WorkloadRef;
  /**
   * Further baseline workloads of the same namespace whose rules the same stream (or fetch) brings:
   * one table serves every workload of an application (`forWorkload`), instead of a stream each.
   */
  alsoFor?: readonly WorkloadRef[];
  /** Interval of the periodic refresh while polling. */
  refreshIntervalMs: number;
  /** While polling, minimum gap between fetches triggered by a key the table does not know. */
  unknownKeyRefetchIntervalMs: number;
  /** How long `ownerOf` waits for the first successful sync before giving up. */
  firstSyncTimeoutMs: number;
  logger?: RoutingLogger;
}

/** `watch`: rules pushed over a gRPC stream. `polling`: fetched over HTTP on an interval. */
export type RouteTableMode = 'watch' | 'polling';

/** Counters and ages for metrics and health checks. */
export interface RouteTableStats {
  mode: RouteTableMode;
  synced: boolean;
  /**
   * How stale the rules may be: 0 while a watch stream is synced; since the last successful fetch when
   * polling, or since the stream broke; undefined before the first sync.
   */
  snapshotAgeMs: number | undefined;
  /** Rules for the workload asked about (one per routing key); every workload's for the table. */
  rules: number;
  keys: number;
  /** HTTP requests made (polling, fallback, unknown keys). */
  fetches: number;
  fetchErrors: number;
  /** Fetches triggered by an unknown key (a subset of `fetches`). */
  unknownKeyRefetches: number;
  /** True while a watch stream is synced. */
  watchConnected: boolean;
  /** Watch attempts started after a stream ended or an attempt failed. */
  watchReconnects: number;
  /** Changes applied to the rules, from stream ops, resyncs and polls alike. */
  changesApplied: Record<RoutingRuleChange, number>;
  lastError: string | undefined;
}

/** What deciding for one baseline workload needs: a {@link RouteTable}, or one of its `forWorkload` views. */
export interface WorkloadRoutes {
  /** The workload this answers for. */
  readonly baseline: WorkloadRef;
  readonly synced: boolean;
  /** Who owns `key` for `baseline` (see {@link RouteTable.ownerOf}). */
  ownerOf(key: string | undefined): Promise<Owner>;
  peekOwner(key: string | undefined): Owner | undefined;
  waitForFirstSync(timeoutMs?: number): Promise<boolean>;
  stats(): RouteTableStats;
}

/** `kind/namespace/name`: a map key for a workload. */
export function workloadKey(workload: WorkloadRef): string {
  return `${workload.kind}/${workload.namespace}/${workload.name}`;
}

/**
 * The routing rules of one or more baseline workloads of a namespace, kept current from the
 * routeserver by one stream (or one fetch) for all of them.
 *
 * **Watch mode** (a `watch` source is given): one gRPC stream pushes every change. Its first SYNCED
 * completes the first sync; a broken stream reconnects (Luby backoff with jitter), collects a fresh set
 * and applies only the difference, and the table answers from its last good set meanwhile. An unknown
 * key is answered from the set without a request: once synced, the set is complete. When a watch attempt
 * fails (gRPC unreachable, unimplemented, or erroring before SYNCED) the table polls over HTTP until a
 * watch syncs again, and says so once each way.
 *
 * **Polling mode**: fetches every `refreshIntervalMs`; concurrent refreshes share one request
 * (single-flight). A key it does not know waits for a fetch that *started after the question* — the
 * only kind that can know a sandbox created just before — scheduled at the earliest moment the
 * unknown-key rate limit (`unknownKeyRefetchIntervalMs`) allows and shared by every key waiting. The wait
 * is bounded by that interval plus the request timeout; a flood of unknown keys still makes at most
 * one request per interval.
 *
 * Either way: a failure keeps the last good set and its staleness is reported; before the first sync it
 * answers nothing (`ownerOf` waits up to `firstSyncTimeoutMs`).
 */
export class RouteTable implements WorkloadRoutes {
  readonly baseline: WorkloadRef;
  /** Every workload it holds rules for, its own first. */
  readonly workloads: readonly WorkloadRef[];
  private readonly options: Required<Omit<RouteTableOptions, 'watch' | 'alsoFor'>> &
    Pick<RouteTableOptions, 'watch'>;
  /**
   * Per workload (`workloadKey`): routing key → the sandbox a rule sends it to; undefined before the
   * first sync. Every held workload has an entry once synced.
   */
  private rules: Map<string, Map<string, string>> | undefined;
  private mode: RouteTableMode;
  private started = false;
  private stopped = false;
  // Polling
  private pollTimer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private fetchesStarted = 0;
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  /** The moment the next unknown-key refetch may start, shared by every key waiting for it. */
  private refetchAllowed:
    | { at: number; reached: Promise<void>; wake: () => void; timer: NodeJS.Timeout }
    | undefined;
  private failing = false;
  // Watch
  private watch: RoutingRulesWatch | undefined;
  private watchLive = false;
  private watchHasSynced = false;
  /** When the rules were last known current (not while a watch stream is live). */
  private confirmedAt: number | undefined;
  private readonly counters = {
    fetches: 0,
    fetchErrors: 0,
    unknownKeyRefetches: 0,
    watchReconnects: 0,
  };
  private readonly changes: Record<RoutingRuleChange, number> = { ADD: 0, REMOVE: 0, REPLACE: 0 };
  private lastError: string | undefined;
  private readonly warnedConflicts = new Set<string>();
  private readonly syncWaiters = new Set<() => void>();

  constructor(options: RouteTableOptions) {
    // `??`, not a spread default: an explicit `logger: undefined` must not erase the fallback.
    this.options = { ...options, logger: options.logger ?? silentLogger };
    this.baseline = options.baseline;
    const workloads = [options.baseline];
    for (const workload of options.alsoFor ?? []) {
      if (!workloads.some((w) => sameWorkload(w, workload))) workloads.push(workload);
    }
    const foreign = workloads.find((w) => w.namespace !== options.baseline.namespace);
    if (foreign) {
      throw new TypeError(
        `a route table holds workloads of one namespace: ${workloadKey(foreign)} is not in ${options.baseline.namespace}`,
      );
    }
    this.workloads = workloads;
    this.mode = options.watch ? 'watch' : 'polling';
  }

  /**
   * The view of one held workload: what its decisions need (door routing, a consumer's ownership,
   * the redirect). Views share this table's stream, rules and counters; stop the table, not a view.
   * @throws TypeError for a workload the table does not hold
   */
  forWorkload(workload: WorkloadRef): WorkloadRoutes {
    const held = this.workloads.find((w) => sameWorkload(w, workload));
    if (!held) throw new TypeError(`the route table does not hold the rules of ${workloadKey(workload)}`);
    if (held === this.baseline) return this;
    const table = this;
    return {
      baseline: held,
      get synced() {
        return table.synced;
      },
      ownerOf: (key) => this.ownerOf(key, held),
      peekOwner: (key) => this.peekOwner(key, held),
      waitForFirstSync: (timeoutMs) => this.waitForFirstSync(timeoutMs),
      stats: () => this.stats(held),
    };
  }

  /** Starts watching (or the first fetch and the periodic refresh). Returns `this` for chaining. */
  start(): this {
    if (this.started || this.stopped) return this;
    this.started = true;
    if (this.options.watch) this.startWatch(this.options.watch);
    else this.startPolling();
    return this;
  }

  /** Stops watching and refreshing, and waits for a fetch in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refetchAllowed) {
      clearTimeout(this.refetchAllowed.timer);
      this.refetchAllowed.wake();
    }
    this.watch?.stop();
    this.stopPolling();
    await this.inflight;
    this.wakeSyncWaiters();
  }

  get synced(): boolean {
    return this.rules !== undefined;
  }

  /** One workload: its full name. Several: their namespace (the stream then brings every rule there). */
  private get filter(): RoutingRulesFilter {
    const { kind, namespace, name } = this.baseline;
    if (this.workloads.length > 1) return { baselineNamespace: namespace };
    return { baselineKind: kind, baselineNamespace: namespace, baselineName: name };
  }

  private holds(workload: WorkloadRef): boolean {
    return this.workloads.some((w) => sameWorkload(w, workload));
  }

  private ruleCount(workload?: WorkloadRef): number {
    if (!this.rules) return 0;
    if (workload) return this.rules.get(workloadKey(workload))?.size ?? 0;
    let count = 0;
    for (const rules of this.rules.values()) count += rules.size;
    return count;
  }

  // ---------------------------------------------------------------------------------------------
  // Watch

  private startWatch(source: RoutingRulesWatchSource): void {
    this.watch = source.watch(this.filter, {
      synced: (rules) => this.onWatchSynced(source, rules),
      change: (op, rule) => this.onWatchChange(op, rule),
      ended: (info) => this.onWatchEnded(source, info),
    });
  }

  private onWatchSynced(source: RoutingRulesWatchSource, rules: RoutingRule[]): void {
    if (this.stopped) return;
    const resync = this.watchHasSynced;
    const fallingBack = this.mode === 'polling';
    this.mode = 'watch';
    this.stopPolling();
    const diff = this.replaceAll(rules);
    this.watchLive = true;
    this.watchHasSynced = true;
    const fields = { baseline: this.baseline, address: source.address, rules: this.ruleCount(), ...diff };
    if (fallingBack) this.options.logger.info(fields, 'watching routing rules again; HTTP polling stopped');
    else if (resync) this.options.logger.info(fields, 'routing rules watch resynced; applied the difference');
  }

  private onWatchChange(op: RoutingRuleChange, rule: RoutingRule): void {
    if (this.stopped || !this.rules || !this.holds(rule.baseline)) return;
    const rules = this.rules.get(workloadKey(rule.baseline));
    if (!rules) return;
    const key = rule.routingKey;
    const current = rules.get(key);
    if (op === 'REMOVE') {
      if (current !== undefined && rules.delete(key)) this.changes.REMOVE++;
    } else if (current !== rule.destinationSandbox.name) {
      // Several sandboxes forking one workload under one key (a RouteGroup): the first by name, as a resync would.
      rules.set(key, rule.destinationSandbox.name);
      this.changes[current === undefined ? 'ADD' : 'REPLACE']++;
    }
    this.options.logger.debug(
      { baseline: this.baseline, op, routingKey: key, sandbox: rule.destinationSandbox.name },
      'routing rule changed',
    );
  }

  private onWatchEnded(source: RoutingRulesWatchSource, { error, synced, retryInMs }: WatchEnded): void {
    if (this.stopped) return;
    this.counters.watchReconnects++;
    this.lastError = error.message;
    const fields = { baseline: this.baseline, address: source.address, error: error.message, retryInMs };
    if (this.watchLive) {
      this.watchLive = false;
      this.confirmedAt = Date.now();
      this.options.logger.warn(
        fields,
        'routing rules watch broke; reconnecting, answering from the last rules',
      );
    }
    if (synced || this.mode === 'polling') {
      this.options.logger.debug(fields, 'routing rules watch attempt ended');
      return;
    }
    // The watch could not be established: poll over HTTP until it can.
    this.mode = 'polling';
    this.options.logger.warn(
      { ...fields, refreshIntervalMs: this.options.refreshIntervalMs },
      'routing rules watch unavailable; falling back to HTTP polling while retrying the watch',
    );
    this.startPolling();
  }

  // ---------------------------------------------------------------------------------------------
  // Polling

  private startPolling(): void {
    if (this.pollTimer || this.stopped) return;
    void this.refresh();
    this.pollTimer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /**
   * Fetches the rules now over HTTP, or joins the fetch already in flight. Never rejects. In watch mode
   * it does nothing: the stream keeps the set current, and an HTTP answer could be older than it.
   */
  refresh(): Promise<void> {
    if (this.stopped || this.mode !== 'polling') return Promise.resolve();
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<void> {
    // Counted before the first await: callers compare `fetchesStarted` right after calling refresh().
    this.fetchesStarted++;
    this.lastFetchStartedAt = Date.now();
    this.counters.fetches++;
    try {
      const rules = await this.options.client.getRoutingRules(this.filter);
      // The watch may have synced meanwhile; its set is newer than this answer.
      if (this.mode !== 'polling' || this.stopped) return;
      this.replaceAll(rules);
      this.confirmedAt = Date.now();
      if (this.failing) this.options.logger.info({ baseline: this.baseline }, 'routeserver reachable again');
      this.failing = false;
    } catch (error) {
      this.counters.fetchErrors++;
      this.lastError = error instanceof Error ? error.message : String(error);
      // Log the transition to failing once at warn, then at debug, so an outage does not flood the log.
      const level = this.failing ? 'debug' : 'warn';
      this.failing = true;
      // Say what decisions do now: before any sync there is no set to keep, decisions wait.
      if (this.synced) {
        this.options.logger[level](
          { baseline: this.baseline, error: this.lastError, snapshotAgeMs: this.stats().snapshotAgeMs },
          'routing rules fetch failed; answering from the last rules fetched',
        );
      } else {
        this.options.logger[level](
          {
            baseline: this.baseline,
            error: this.lastError,
            firstSyncTimeoutMs: this.options.firstSyncTimeoutMs,
          },
          'routing rules fetch failed; no rules yet (never synced): decisions wait for the first sync, ' +
            'up to firstSyncTimeoutMs, then follow the never-synced policy',
        );
      }
    }
  }

  /**
   * Resolves once a fetch that started after this call has finished, or `known()` holds; the fetch is
   * started at the earliest moment the unknown-key rate limit allows, and shared by all callers.
   */
  private async fetchNewerThanNow(known: () => boolean): Promise<void> {
    const asked = this.fetchesStarted;
    for (;;) {
      if (this.stopped || this.mode !== 'polling' || known()) return;
      if (this.fetchesStarted > asked) {
        await this.inflight;
        return;
      }
      if (this.inflight) {
        await this.inflight; // started before the question: it may predate the sandbox
        continue;
      }
      const allowedAt = this.lastFetchStartedAt + this.options.unknownKeyRefetchIntervalMs;
      if (allowedAt > Date.now()) {
        await this.reached(allowedAt);
        continue;
      }
      this.counters.unknownKeyRefetches++;
      await this.refresh();
      return;
    }
  }

  /**
   * Resolves at `at` (or on stop). One timer for all keys waiting for the same moment; it keeps the
   * process alive, since a decision waits on it (for at most the refetch interval).
   */
  private reached(at: number): Promise<void> {
    if (this.refetchAllowed?.at !== at) {
      let wake = () => {};
      const reached = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const timer = setTimeout(wake, at - Date.now());
      this.refetchAllowed = { at, reached, wake, timer };
    }
    return this.refetchAllowed.reached;
  }

  // ---------------------------------------------------------------------------------------------
  // The set

  /** Replaces the whole set with `rules` in one step, counting only what differs. */
  private replaceAll(rules: RoutingRule[]): Record<RoutingRuleChange, number> {
    const next = this.index(rules);
    const diff: Record<RoutingRuleChange, number> = { ADD: 0, REMOVE: 0, REPLACE: 0 };
    for (const [workload, byKey] of next) {
      const previous = this.rules?.get(workload) ?? new Map<string, string>();
      for (const [key, sandbox] of byKey) {
        const before = previous.get(key);
        if (before === undefined) diff.ADD++;
        else if (before !== sandbox) diff.REPLACE++;
      }
      for (const key of previous.keys()) if (!byKey.has(key)) diff.REMOVE++;
    }
    for (const op of ['ADD', 'REMOVE', 'REPLACE'] as const) this.changes[op] += diff[op];
    const firstSync = this.rules === undefined;
    this.rules = next;
    if (firstSync) {
      this.options.logger.info(
        {
          baseline: this.baseline,
          workloads: this.workloads.length,
          rules: this.ruleCount(),
          mode: this.mode,
        },
        'route table synced',
      );
      this.wakeSyncWaiters();
    }
    return diff;
  }

  /**
   * Per held workload: routing key → sandbox. Signadot identifies a rule by baseline and key, so there
   * is one sandbox per key and workload; should a server send several, the first by name wins, with a
   * warning. Rules of workloads it does not hold (a namespace-wide stream brings them) are left out.
   */
  private index(rules: RoutingRule[]): Map<string, Map<string, string>> {
    const candidates = new Map<string, Map<string, string[]>>(
      this.workloads.map((w) => [workloadKey(w), new Map<string, string[]>()]),
    );
    for (const rule of rules) {
      const byKey = candidates.get(workloadKey(rule.baseline));
      // A rule for another workload must never route ours.
      if (!byKey || !this.holds(rule.baseline)) continue;
      const sandboxes = byKey.get(rule.routingKey) ?? [];
      if (!sandboxes.includes(rule.destinationSandbox.name)) sandboxes.push(rule.destinationSandbox.name);
      byKey.set(rule.routingKey, sandboxes);
    }
    const index = new Map<string, Map<string, string>>();
    for (const [workload, byKey] of candidates) {
      const chosen = new Map<string, string>();
      for (const [key, sandboxes] of byKey) {
        sandboxes.sort();
        const conflict = `${workload} ${key}`;
        if (sandboxes.length > 1 && !this.warnedConflicts.has(conflict)) {
          this.warnedConflicts.add(conflict);
          this.options.logger.warn(
            { workload, routingKey: key, sandboxes, chosen: sandboxes[0] },
            'several sandboxes fork this workload under one routing key; choosing the first by name',
          );
        }
        chosen.set(key, sandboxes[0] as string);
      }
      index.set(workload, chosen);
    }
    return index;
  }

  private wakeSyncWaiters(): void {
    for (const wake of this.syncWaiters) wake();
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

  /** The owner in the current set, without waiting or fetching; undefined before the first sync. */
  peekOwner(key: string | undefined, workload: WorkloadRef = this.baseline): Owner | undefined {
    if (!key) return BASELINE_OWNER;
    if (this.rules === undefined) return undefined;
    const sandboxName = this.rulesOf(workload).get(key);
    return sandboxName !== undefined ? { kind: 'sandbox', sandboxName } : BASELINE_OWNER;
  }

  /** @throws TypeError for a workload the table does not hold (a bug in the caller, not a rule) */
  private rulesOf(workload: WorkloadRef): Map<string, string> {
    const rules = this.rules?.get(workloadKey(workload));
    if (rules) return rules;
    if (!this.holds(workload))
      throw new TypeError(`the route table does not hold the rules of ${workloadKey(workload)}`);
    return new Map();
  }

  /**
   * Who owns `key` for `workload` (default: the table's own). An empty key is always the baseline's. While
   * watching, the answer comes from the watched set at once. While polling, a key no rule names waits for
   * a fetch newer than the question (rate-limited, see the class comment) before the answer "baseline".
   * @throws RouteTableNotSyncedError when the table has not synced within `firstSyncTimeoutMs`
   */
  async ownerOf(key: string | undefined, workload: WorkloadRef = this.baseline): Promise<Owner> {
    if (!key) return BASELINE_OWNER;
    if (!this.synced) {
      const started = Date.now();
      if (!(await this.waitForFirstSync())) throw new RouteTableNotSyncedError(Date.now() - started);
    }
    const known = () => this.rulesOf(workload).has(key);
    if (!known() && this.mode === 'polling') await this.fetchNewerThanNow(known);
    return this.peekOwner(key, workload) as Owner;
  }

  /** Counters of the table; `rules` and `keys` of `workload` when given, else of every workload held. */
  stats(workload?: WorkloadRef): RouteTableStats {
    const age =
      this.rules === undefined
        ? undefined
        : this.watchLive
          ? 0
          : Date.now() - (this.confirmedAt ?? Date.now());
    return {
      mode: this.mode,
      synced: this.synced,
      snapshotAgeMs: age,
      rules: this.ruleCount(workload),
      keys: this.ruleCount(workload),
      ...this.counters,
      watchConnected: this.watchLive,
      changesApplied: { ...this.changes },
      lastError: this.lastError,
    };
  }
}
