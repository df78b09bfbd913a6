/**
 * Sandbox routing as a Temporal plugin: one entry in `plugins` on a Client and a Worker.
 *
 * ```ts
 * const routing = sandboxRouting();                      // settings from the pod's environment
 * const client = new Client({ connection, plugins: [routing] });
 * const worker = await Worker.create({ connection, taskQueue: 'orders', workflowsPath, activities, plugins: [routing] });
 * ```
 *
 * - **Worker**: a fork (`SIGNADOT_SANDBOX_NAME` set) polls `<taskQueue>@<sandbox>` instead of the shared
 *   queue; the workflow interceptors (the key on every call, the first-task redirect, work for other
 *   workloads), the activity check and the route-check local activity are registered; a bundle built
 *   with `bundleWorkflowCode({ plugins: [routing] })` carries the interceptors too.
 * - **Client**: every call carries the key (from `runWithRoutingKey` or OpenTelemetry baggage); a start
 *   aimed at a queue the application declares goes straight to its owner's queue (door routing).
 *
 * The route tables (one watch stream per namespace of the application) start on first use and stop
 * when the last worker the plugin configured stops, or with {@link SandboxRoutingPlugin.close}. A
 * process that only has a client polls the routeserver instead of watching it (polling's timers do not
 * keep a process alive, an open gRPC stream would), so a script that starts a workflow and returns
 * ends by itself.
 */
import {
  Application,
  ApplicationRoutes,
  type InstanceIdentity,
  isSandboxName,
  RouteserverClient,
  RouteserverWatchClient,
  type RoutingDecisionListener,
  type RoutingLogger,
  readApplicationFile,
  type WorkloadDeclaration,
} from '@sandbox-routing/core';
import type { ClientOptions, WorkflowClientInterceptor } from '@temporalio/client';
import { SimplePlugin } from '@temporalio/plugin';
import type { BundleOptions, ReplayWorkerOptions, Worker, WorkerOptions } from '@temporalio/worker';
import type { MismatchPolicy } from './activity-interceptor';
import { RoutingClientInterceptor } from './client-interceptor';
import { ROUTING_WORKFLOW_INTERCEPTORS, routingWorkerOptions } from './worker';

/** The routeserver: Signadot's in-cluster addresses by default. */
export interface RouteserverSettings {
  /** HTTP API (polling, and the watch's fallback). Env `SIGNADOT_ROUTESERVER_URL`. */
  url?: string;
  /** gRPC address the route tables watch; `''` to poll only. Env `SIGNADOT_ROUTESERVER_GRPC_ADDRESS`. */
  grpcAddress?: string;
  refreshIntervalMs?: number;
  requestTimeoutMs?: number;
  firstSyncTimeoutMs?: number;
  unknownKeyRefetchIntervalMs?: number;
}

export interface SandboxRoutingOptions {
  /**
   * This instance: its baseline workload and, in a fork, its sandbox. Default: what Signadot gives a
   * pod, `SIGNADOT_BASELINE_KIND` (Deployment), `SIGNADOT_BASELINE_NAMESPACE`, `SIGNADOT_BASELINE_NAME`
   * (required for a worker) and `SIGNADOT_SANDBOX_NAME` (empty on the baseline).
   */
  identity?: InstanceIdentity;
  /**
   * The application: which workload serves which task queue, so work for another workload goes to its
   * owner and a client door-routes every declared queue. An `Application`, or the path of its
   * declaration (JSON or YAML). Default: the file in `ROUTING_APPLICATION_FILE`, else only the worker's
   * own queue (a client then only carries the key, and the worker's first-task check places starts).
   */
  application?: Application | string;
  routeserver?: RouteserverSettings;
  /** Record `SignadotRoutingKey` / `SignadotSandbox` on placed workflows (register them first). Default false. */
  recordSearchAttributes?: boolean;
  mismatchPolicy?: MismatchPolicy;
  onDecision?: RoutingDecisionListener;
  logger?: RoutingLogger;
  /** The environment to read defaults from (tests). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Settings the plugin cannot work with; the message names the option or variable. */
export class SandboxRoutingConfigError extends Error {
  override readonly name = 'SandboxRoutingConfigError';
}

const ROUTESERVER_DEFAULTS = {
  url: 'http://routeserver.signadot.svc:7778',
  grpcAddress: 'routeserver.signadot.svc:7777',
  refreshIntervalMs: 2000,
  requestTimeoutMs: 1000,
  firstSyncTimeoutMs: 10_000,
  unknownKeyRefetchIntervalMs: 500,
} as const;

export class SandboxRoutingPlugin extends SimplePlugin {
  private readonly env: NodeJS.ProcessEnv;
  private routes: ApplicationRoutes | undefined;
  /** The application read from its file, once. */
  private loaded: Application | undefined;
  private runningWorkers = 0;

  constructor(private readonly settings: SandboxRoutingOptions = {}) {
    super({ name: 'sandbox-routing' });
    this.env = settings.env ?? process.env;
  }

  override configureClient(options: ClientOptions): ClientOptions {
    const configured = super.configureClient(options);
    const application = this.declaredApplication();
    const interceptor = new RoutingClientInterceptor({
      ...(application ? { doorRouting: { application, routes: this.routesFor(application, false) } } : {}),
      recordSearchAttributes: this.settings.recordSearchAttributes,
      onDecision: this.settings.onDecision,
    });
    const workflow = configured.interceptors?.workflow;
    if (workflow !== undefined && !Array.isArray(workflow)) {
      throw new SandboxRoutingConfigError(
        'sandboxRouting: the client lists its workflow interceptors in the old object form; give an array',
      );
    }
    return {
      ...configured,
      interceptors: {
        ...configured.interceptors,
        workflow: [...((workflow as WorkflowClientInterceptor[] | undefined) ?? []), interceptor],
      },
    };
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const configured = super.configureWorker(options);
    const { taskQueue: sharedQueue, ...rest } = configured;
    if (!sharedQueue) throw new SandboxRoutingConfigError('sandboxRouting: the worker needs a taskQueue');
    const identity = this.identity({ worker: true });
    const own: WorkloadDeclaration = {
      name: identity.baseline.name,
      baseline: identity.baseline,
      taskQueues: [sharedQueue],
      consumers: [],
    };
    const application = this.declaredApplication() ?? Application.of(own);
    const declared = application.ofBaseline(identity.baseline);
    if (!declared?.taskQueues.includes(sharedQueue)) {
      const { kind, namespace, name } = identity.baseline;
      throw new SandboxRoutingConfigError(
        `sandboxRouting: the application does not declare task queue "${sharedQueue}" for workload ${kind}/${namespace}/${name}`,
      );
    }
    const routes = this.routesFor(application, true);
    const routed = routingWorkerOptions(rest, {
      identity,
      routeTable: routes.forWorkload(identity.baseline),
      sharedQueue,
      application: { declaration: application, routes },
      mismatchPolicy: this.settings.mismatchPolicy,
      recordSearchAttributes: this.settings.recordSearchAttributes,
      onDecision: this.settings.onDecision,
    });
    this.runningWorkers++;
    return routed;
  }

  override configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    const configured = super.configureReplayWorker(options);
    const interceptors = configured.interceptors ?? {};
    return {
      ...configured,
      interceptors: {
        ...interceptors,
        workflowModules: [...(interceptors.workflowModules ?? []), ROUTING_WORKFLOW_INTERCEPTORS],
      },
    };
  }

  override configureBundler(options: BundleOptions): BundleOptions {
    const configured = super.configureBundler(options);
    return {
      ...configured,
      workflowInterceptorModules: [
        ...(configured.workflowInterceptorModules ?? []),
        ROUTING_WORKFLOW_INTERCEPTORS,
      ],
    };
  }

  override async runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
    try {
      await super.runWorker(worker, next);
    } finally {
      // The route tables outlive no worker: a process whose workers all stopped can exit.
      if (--this.runningWorkers <= 0) await this.close();
    }
  }

  /** Stops the route tables (they start again on next use). */
  async close(): Promise<void> {
    const routes = this.routes;
    this.routes = undefined;
    await routes?.stop();
  }

  /** The route tables, started on first use: watching for a worker (which runs on), polling for a client. */
  private routesFor(application: Application, watch: boolean): ApplicationRoutes {
    if (this.routes && this.routes.application !== application) {
      throw new SandboxRoutingConfigError('sandboxRouting: one plugin serves one application');
    }
    this.routes ??= this.startRoutes(application, watch);
    return this.routes;
  }

  private startRoutes(application: Application, watch: boolean): ApplicationRoutes {
    const settings = { ...ROUTESERVER_DEFAULTS, ...this.routeserverFromEnv(), ...this.settings.routeserver };
    const logger = this.settings.logger;
    const own = this.identity({ worker: false }).baseline;
    // A client-only process names no workload of its own: its table is the application's first one's.
    const first = application.ofBaseline(own)?.baseline ?? application.workloads[0]?.baseline ?? own;
    return new ApplicationRoutes(application, first, {
      client: new RouteserverClient({ url: settings.url, requestTimeoutMs: settings.requestTimeoutMs }),
      watch:
        watch && settings.grpcAddress
          ? new RouteserverWatchClient({
              address: settings.grpcAddress,
              connectTimeoutMs: Math.max(settings.requestTimeoutMs, settings.firstSyncTimeoutMs / 2),
              syncTimeoutMs: settings.firstSyncTimeoutMs,
              reconnectBaseMs: 1000,
              reconnectMaxMs: 30_000,
              logger,
            })
          : undefined,
      refreshIntervalMs: settings.refreshIntervalMs,
      unknownKeyRefetchIntervalMs: settings.unknownKeyRefetchIntervalMs,
      firstSyncTimeoutMs: settings.firstSyncTimeoutMs,
      logger,
    }).start();
  }

  private routeserverFromEnv(): RouteserverSettings {
    const { SIGNADOT_ROUTESERVER_URL: url, SIGNADOT_ROUTESERVER_GRPC_ADDRESS: grpcAddress } = this.env;
    return {
      ...(url ? { url } : {}),
      ...(grpcAddress !== undefined ? { grpcAddress } : {}),
    };
  }

  private declaredApplication(): Application | undefined {
    const given = this.settings.application ?? this.env.ROUTING_APPLICATION_FILE;
    if (given === undefined || given === '') return undefined;
    if (given instanceof Application) return given;
    this.loaded ??= readApplicationFile(given, {
      namespace: this.identity({ worker: false }).baseline.namespace,
    });
    return this.loaded;
  }

  private identity({ worker }: { worker: boolean }): InstanceIdentity {
    if (this.settings.identity) return this.settings.identity;
    const env = this.env;
    const name = env.SIGNADOT_BASELINE_NAME ?? '';
    if (worker && !name) {
      throw new SandboxRoutingConfigError(
        'sandboxRouting: set SIGNADOT_BASELINE_NAME (the baseline workload this worker belongs to), or pass identity',
      );
    }
    const sandboxName = env.SIGNADOT_SANDBOX_NAME ?? '';
    if (sandboxName && !isSandboxName(sandboxName)) {
      throw new SandboxRoutingConfigError(
        `sandboxRouting: SIGNADOT_SANDBOX_NAME ${JSON.stringify(sandboxName)} is not a sandbox name`,
      );
    }
    return {
      baseline: {
        kind: env.SIGNADOT_BASELINE_KIND || 'Deployment',
        namespace: env.SIGNADOT_BASELINE_NAMESPACE || 'default',
        name: name || 'client',
      },
      sandboxName,
    };
  }
}

/**
 * The sandbox-routing plugin for Temporal Clients, Workers and the bundler (one instance for all of a
 * process's): see the module comment.
 */
export function sandboxRouting(options: SandboxRoutingOptions = {}): SandboxRoutingPlugin {
  return new SandboxRoutingPlugin(options);
}
