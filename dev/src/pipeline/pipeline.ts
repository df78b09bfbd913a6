import { randomUUID } from 'node:crypto';
import { instanceLabel, workflowIdOfEvent } from '@sandbox-routing/shared';
import {
  freePort,
  type PollOptions,
  type ProcessRun,
  pollUntil,
  runProcess,
  type StackEnv,
} from '@sandbox-routing/testkit';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { DEAD_LETTER_TOPIC_CONFIG, EVENTS_TOPIC_CONFIG } from '../stack/services';
import { checkoutLauncher, type Launcher } from './launcher';
import { type ServiceProcess, type StartServiceOptions, startService, stopService } from './service-process';

/** The stack's addresses as `up()` returns them (what `.stack/env` holds), as the harness takes them. */
export function stackEnvFrom(addresses: Readonly<Record<string, string>>): StackEnv {
  return {
    KAFKA_BROKERS: addresses.KAFKA_BROKERS ?? '',
    TEMPORAL_ADDRESS: addresses.TEMPORAL_ADDRESS ?? '',
    TEMPORAL_UI_URL: addresses.TEMPORAL_UI_URL ?? '',
    SIGNADOT_ROUTESERVER_URL: addresses.SIGNADOT_ROUTESERVER_URL ?? '',
    SIGNADOT_ROUTESERVER_GRPC_ADDRESS: addresses.SIGNADOT_ROUTESERVER_GRPC_ADDRESS ?? '',
    // Present when the stack runs Jaeger (STACK_TRACING, on by default): services export to it.
    JAEGER_URL: addresses.JAEGER_URL,
    OTEL_TRACES_EXPORTER: addresses.OTEL_TRACES_EXPORTER,
    OTEL_EXPORTER_OTLP_ENDPOINT: addresses.OTEL_EXPORTER_OTLP_ENDPOINT,
  };
}

/** Where one event ended up, read back from Temporal. */
export interface EventOutcome {
  eventId: string;
  workflowId: string;
  status: string;
  /** Memo written by the ingress: which ingress instance started it. */
  ingestedBy: string | undefined;
  /** From the workflow result: which worker instance ran the workflow and each activity. */
  ranOn: string | undefined;
  activitiesOn: string[];
  pricing: string | undefined;
  /** Publish (event time) to workflow close, ms. */
  latencyMs: number | undefined;
  /** Epoch ms of the event's time (when it was published) and of the workflow's close. */
  publishedAt: number | undefined;
  completedAt: number | undefined;
  result: unknown;
}

export interface PipelineOptions {
  stack: StackEnv;
  /** Isolated names for this run; defaults are the services' own defaults (the demo uses those). */
  topic?: string;
  consumerGroup?: string;
  taskQueue?: string;
  ingressBaseline?: string;
  workerBaseline?: string;
  namespace?: string;
  logDir: string;
  /** Extra environment for every service (e.g. a faster route refresh in tests). */
  env?: NodeJS.ProcessEnv;
  /** Where services and the producer run from: the checkout (default) or images' runtime trees. */
  launcher?: Launcher;
}

/** Topic settings of an isolated pipeline (`name`/`value` entries), when a test needs other than the stack's. */
export interface TopicConfig {
  events?: { name: string; value: string }[];
  deadLetter?: { name: string; value: string }[];
}

interface PublishSummary {
  topic: string;
  sent: number;
  events: { id: string; partition: number; offset: string; traceId?: string }[];
}

/**
 * The whole pipeline on the local stack, each service a real process: what the demo shows and what the
 * end-to-end tests check. Sandboxes are registered in the routeserver stand-in, as Signadot would.
 */
export class Pipeline {
  readonly topic: string;
  readonly consumerGroup: string;
  readonly taskQueue: string;
  readonly ingressBaseline: string;
  readonly workerBaseline: string;
  readonly namespace: string;
  readonly services: ServiceProcess[] = [];
  private connection: Connection | undefined;
  private client: Client | undefined;

  constructor(private readonly options: PipelineOptions) {
    this.topic = options.topic ?? 'events';
    this.consumerGroup = options.consumerGroup ?? 'ingress';
    this.taskQueue = options.taskQueue ?? 'orders';
    this.ingressBaseline = options.ingressBaseline ?? 'ingress';
    this.workerBaseline = options.workerBaseline ?? 'worker';
    this.namespace = options.namespace ?? 'local';
  }

  /**
   * A pipeline with unique topic, group, queue and workload names, so tests never see each other. Its
   * topics have the stack's settings unless `topicConfig` says otherwise.
   */
  static async isolated(
    stack: StackEnv,
    logDir: string,
    env?: NodeJS.ProcessEnv,
    launcher?: Launcher,
    topicConfig: TopicConfig = {},
  ): Promise<Pipeline> {
    const id = randomUUID().slice(0, 8);
    const pipeline = new Pipeline({
      stack,
      logDir,
      env,
      launcher,
      topic: `events-${id}`,
      consumerGroup: `ingress-${id}`,
      taskQueue: `orders-${id}`,
      ingressBaseline: `ingress-${id}`,
      workerBaseline: `worker-${id}`,
    });
    await pipeline.createTopics(3, topicConfig);
    return pipeline;
  }

  get deadLetterTopic(): string {
    return `${this.topic}.dead-letter`;
  }

  /** Where the workers publish their trail records (`events.results` for the default topic). */
  get resultsTopic(): string {
    return `${this.topic}.results`;
  }

  kafka(): Kafka {
    return new Kafka({ brokers: this.options.stack.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  }

  /** Runs `fn` with a connected Kafka admin client. */
  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka().admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  topicExists(topic: string): Promise<boolean> {
    return this.withAdmin(async (admin) => (await admin.listTopics()).includes(topic));
  }

  /** A group's committed offset per partition of `topic` (-1: nothing committed). */
  committedOffsets(groupId = this.consumerGroup, topic = this.topic): Promise<Record<number, number>> {
    return this.withAdmin(async (admin) => {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Object.fromEntries((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    });
  }

  async createTopics(partitions: number, config: TopicConfig = {}): Promise<void> {
    await this.withAdmin(async (admin) => {
      await admin.createTopics({
        topics: [
          {
            topic: this.topic,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: config.events ?? EVENTS_TOPIC_CONFIG,
          },
          {
            topic: this.deadLetterTopic,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: config.deadLetter ?? DEAD_LETTER_TOPIC_CONFIG,
          },
          { topic: this.resultsTopic, numPartitions: 1, replicationFactor: 1 },
        ],
        waitForLeaders: true,
      });
    });
  }

  private serviceEnv(sandbox: string): NodeJS.ProcessEnv {
    const { stack } = this.options;
    return {
      // Traces go to the stack's Jaeger when it runs one.
      ...(stack.OTEL_EXPORTER_OTLP_ENDPOINT
        ? {
            OTEL_TRACES_EXPORTER: stack.OTEL_TRACES_EXPORTER ?? 'otlp',
            OTEL_EXPORTER_OTLP_ENDPOINT: stack.OTEL_EXPORTER_OTLP_ENDPOINT,
          }
        : {}),
      ...this.options.env,
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS,
      SIGNADOT_ROUTESERVER_URL: stack.SIGNADOT_ROUTESERVER_URL,
      SIGNADOT_ROUTESERVER_GRPC_ADDRESS: stack.SIGNADOT_ROUTESERVER_GRPC_ADDRESS,
      SIGNADOT_BASELINE_NAMESPACE: this.namespace,
      SIGNADOT_SANDBOX_NAME: sandbox,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      KAFKA_TOPIC: this.topic,
      KAFKA_DEAD_LETTER_TOPIC: this.deadLetterTopic,
      KAFKA_RESULTS_TOPIC: this.resultsTopic,
    };
  }

  async startIngress(sandbox = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    return this.startRouted('ingress', sandbox, {
      SIGNADOT_BASELINE_NAME: this.ingressBaseline,
      WORKER_BASELINE_NAME: this.workerBaseline,
      KAFKA_CONSUMER_GROUP: this.consumerGroup,
      ...extraEnv,
    });
  }

  async startWorker(sandbox = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    return this.startRouted('worker', sandbox, {
      SIGNADOT_BASELINE_NAME: this.workerBaseline,
      // The fork is "the pull request": it runs the new pricing.
      WORKER_VARIANT: sandbox ? 'v2' : 'standard',
      ...extraEnv,
    });
  }

  /** One instance (`sandbox`, or the baseline) of the ingress or worker package, with its preload. */
  private startRouted(
    workload: 'ingress' | 'worker',
    sandbox: string,
    env: NodeJS.ProcessEnv,
  ): Promise<ServiceProcess> {
    return this.launch({
      name: `${workload}-${instanceLabel(sandbox)}`,
      entry: `${workload}/dist/main.js`,
      preload: `${workload}/dist/instrument.js`,
      env: { ...this.serviceEnv(sandbox), ...env },
    });
  }

  /**
   * The web console (`producer console`) for this pipeline's topics, queue and baselines, on `port`
   * (default: a free one). Its /readyz waits for the trail reader and the first routeserver answer.
   */
  async startConsole(port?: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    const consolePort = port ?? (await freePort());
    return this.launch(
      {
        name: 'console',
        entry: 'producer/dist/cli.js',
        preload: 'producer/dist/instrument.js',
        args: ['console'],
        env: {
          ...this.serviceEnv(''),
          TEMPORAL_UI_URL: this.options.stack.TEMPORAL_UI_URL,
          WORKER_BASELINE_NAME: this.workerBaseline,
          INGRESS_BASELINE_NAME: this.ingressBaseline,
          CONSOLE_PORT: String(consolePort),
          ...extraEnv,
        },
      },
      consolePort,
    );
  }

  /**
   * Starts, all at once, the baseline ingress and worker and each sandbox's forked services (a forked
   * ingress creates its sandbox topic). Resolves to them in that order: the baseline ingress, the
   * baseline worker, then each sandbox's forks in the order given.
   */
  startServices(sandboxes: { name: string; forks: ('ingress' | 'worker')[] }[]): Promise<ServiceProcess[]> {
    return Promise.all([
      this.startIngress(),
      this.startWorker(),
      ...sandboxes.flatMap(({ name, forks }) =>
        forks.map((fork) => (fork === 'ingress' ? this.startIngress(name) : this.startWorker(name))),
      ),
    ]);
  }

  /** Starts one service of this pipeline (its log in the pipeline's log dir) and keeps it to stop. */
  private async launch(
    service: Omit<StartServiceOptions, 'httpPort' | 'logDir' | 'launcher'>,
    httpPort?: number,
  ): Promise<ServiceProcess> {
    const started = await startService({
      ...service,
      httpPort: httpPort ?? (await freePort()),
      logDir: this.options.logDir,
      launcher: this.options.launcher,
    });
    this.services.push(started);
    return started;
  }

  async stopService(service: ServiceProcess): Promise<number | null> {
    const code = await stopService(service);
    this.services.splice(this.services.indexOf(service), 1);
    return code;
  }

  private async admin(method: string, adminPath: string, body?: unknown): Promise<void> {
    const response = await fetch(`${this.options.stack.SIGNADOT_ROUTESERVER_URL}${adminPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(`${method} ${adminPath}: ${response.status} ${await response.text()}`);
    }
  }

  /** Registers a sandbox that forks the given workloads of this pipeline. */
  registerSandbox(name: string, routingKey: string, forks: ('ingress' | 'worker')[]): Promise<void> {
    return this.admin('PUT', `/admin/sandboxes/${name}`, {
      routingKey,
      forks: forks.map((fork) => ({
        kind: 'Deployment',
        namespace: this.namespace,
        name: fork === 'ingress' ? this.ingressBaseline : this.workerBaseline,
      })),
    });
  }

  deleteSandbox(name: string): Promise<void> {
    return this.admin('DELETE', `/admin/sandboxes/${name}`);
  }

  registerRouteGroup(name: string, routingKey: string, sandboxes: string[]): Promise<void> {
    return this.admin('PUT', `/admin/routegroups/${name}`, { routingKey, sandboxes });
  }

  deleteRouteGroup(name: string): Promise<void> {
    return this.admin('DELETE', `/admin/routegroups/${name}`);
  }

  /** Makes the stand-in answer routing-rule requests with HTTP 500 (`true`) or normally again. */
  routeserverFails(failing: boolean): Promise<void> {
    return this.admin('PUT', '/admin/behaviour', { respondWith: failing ? 'http-500' : 'rules' });
  }

  /** Publishes with the producer CLI, as a user would; returns its JSON summary. */
  async publish(options: {
    routingKey?: string;
    count?: number;
    idPrefix: string;
    /** Events per second (the producer's `--rate`); default: as fast as possible. */
    rate?: number;
  }): Promise<PublishSummary> {
    const args = [
      'publish',
      '--json',
      '--count',
      String(options.count ?? 1),
      '--id-prefix',
      options.idPrefix,
    ];
    if (options.routingKey) args.push('--routing-key', options.routingKey);
    if (options.rate) args.push('--rate', String(options.rate));
    const launch = (this.options.launcher ?? checkoutLauncher).launch(
      'producer/dist/cli.js',
      args,
      { ...this.serviceEnv(''), LOG_LEVEL: 'warn' },
      'producer/dist/instrument.js',
    );
    const run = await runProcess(launch.command, launch.args, {
      env: launch.env,
      inheritEnv: false,
      cwd: launch.cwd,
      timeoutMs: 300_000,
    });
    if (run.code !== 0) throw new Error(`producer exited with ${run.code}: ${run.stderr}`);
    const output = run.stdout;
    return JSON.parse(output) as PublishSummary;
  }

  /** The topic the baseline ingress forwards a sandbox's events to (`<topic>.sandbox.<name>`). */
  sandboxTopic(sandbox: string): string {
    return `${this.topic}.sandbox.${sandbox}`;
  }

  /** Runs the ingress's teardown command for a sandbox (exit code, JSON report on stdout). */
  async teardownIngress(sandbox: string, ...args: string[]): Promise<ProcessRun> {
    const launch = (this.options.launcher ?? checkoutLauncher).launch(
      'ingress/dist/teardown.js',
      ['--sandbox', sandbox, '--json', ...args],
      {
        ...this.serviceEnv(''),
        SIGNADOT_BASELINE_NAME: this.ingressBaseline,
        KAFKA_CONSUMER_GROUP: this.consumerGroup,
        LOG_LEVEL: 'warn',
      },
    );
    return runProcess(launch.command, launch.args, {
      env: launch.env,
      inheritEnv: false,
      cwd: launch.cwd,
      timeoutMs: 420_000, // above the longest --fence-timeout a test passes
    });
  }

  /** The sum of a metric's samples whose labels include `labels` (e.g. `action="forwarded"`), from /metrics. */
  async metric(service: ServiceProcess, name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
    // A metric the service does not declare (renamed, misspelt) fails at once instead of reading 0
    // until a poll's deadline.
    if (!text.includes(`# TYPE ${name} `))
      throw new Error(`${service.httpUrl}/metrics has no metric ${name}`);
    return text
      .split('\n')
      .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  }

  /** Polls `service`'s metric `name` (summed over the series with `labels`) until it reaches `atLeast`. */
  async awaitMetric(
    service: ServiceProcess,
    metric: { name: string; labels?: string; atLeast: number },
    poll: PollOptions,
  ): Promise<void> {
    await pollUntil(
      async () => (await this.metric(service, metric.name, metric.labels)) >= metric.atLeast,
      poll,
    );
  }

  temporal(): Client {
    if (!this.client) {
      this.connection = Connection.lazy({ address: this.options.stack.TEMPORAL_ADDRESS });
      this.client = new Client({ connection: this.connection });
    }
    return this.client;
  }

  /** Waits for the workflow of an event and reads where everything ran. */
  async outcome(eventId: string, timeoutMs = 60_000): Promise<EventOutcome> {
    const workflowId = workflowIdOfEvent(eventId);
    const handle = this.temporal().workflow.getHandle(workflowId);
    // The ingress may not have started it yet: poll until it exists, then until it has closed.
    const description = await pollUntil(
      async () => {
        try {
          const now = await handle.describe();
          return now.closeTime ? now : undefined;
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return undefined;
          throw error;
        }
      },
      { description: `workflow ${workflowId} to complete`, timeoutMs, intervalMs: 50 },
    );
    const result = (await handle.result()) as Record<string, unknown>;
    const memo = (description.memo ?? {}) as Record<string, unknown>;
    const eventTime = typeof memo.eventTime === 'string' ? Date.parse(memo.eventTime) : undefined;
    const workflow = result.workflow as { instance?: string } | undefined;
    const activities = (result.activities as { instance?: string }[] | undefined) ?? [];
    return {
      eventId,
      workflowId,
      status: description.status.name,
      ingestedBy: typeof memo.ingestedBy === 'string' ? memo.ingestedBy : undefined,
      ranOn: workflow?.instance,
      activitiesOn: activities.map((a) => a.instance ?? '?'),
      pricing: typeof result.pricing === 'string' ? result.pricing : undefined,
      latencyMs:
        eventTime !== undefined && description.closeTime
          ? description.closeTime.getTime() - eventTime
          : undefined,
      publishedAt: eventTime,
      completedAt: description.closeTime?.getTime(),
      result,
    };
  }

  /**
   * Waits until every event of `eventIds` has a closed workflow and returns their outcomes. Polls them
   * together, so a lost event fails the wait once (naming every missing id) instead of one by one.
   */
  async awaitOutcomes(eventIds: readonly string[], timeoutMs = 90_000): Promise<Map<string, EventOutcome>> {
    const done = new Map<string, EventOutcome>();
    try {
      await pollUntil(
        async () => {
          const pending = eventIds.filter((id) => !done.has(id));
          // A few requests at a time: a soak waits for a thousand events at once.
          for (let i = 0; i < pending.length; i += 25) {
            await Promise.all(
              pending.slice(i, i + 25).map(async (eventId) => {
                const outcome = await this.outcome(eventId, 1).catch(() => undefined);
                if (outcome) done.set(eventId, outcome);
              }),
            );
          }
          return done.size === eventIds.length;
        },
        { description: `${eventIds.length} events to complete`, timeoutMs, intervalMs: 250 },
      );
    } catch (error) {
      const missing = eventIds.filter((id) => !done.has(id));
      throw new Error(
        `${missing.length} of ${eventIds.length} events never completed (${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}): ${(error as Error).message}`,
      );
    }
    return done;
  }

  /** Ids of every workflow whose id starts with `evt-<prefix>` (one per event, if nothing ran twice). */
  async workflowIds(prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const workflow of this.temporal().workflow.list({
      query: `WorkflowId STARTS_WITH "evt-${prefix}"`,
    })) {
      ids.push(workflow.workflowId);
    }
    return ids;
  }

  /** Stops every service it started (SIGTERM by PID, in reverse order) and closes its clients. */
  async stop(): Promise<void> {
    for (const service of [...this.services].reverse()) await this.stopService(service);
    await this.connection?.close();
  }
}
