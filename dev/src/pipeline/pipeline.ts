import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { instanceLabel } from '@sandbox-routing/core';
import { forwardTopicOf } from '@sandbox-routing/kafka';
import { SAMPLE_TASK_QUEUES, workflowIdOfEvent } from '@sandbox-routing/sample';
import {
  freePort,
  type PollOptions,
  type ProcessRun,
  pollUntil,
  runProcess,
  type StackEnv,
} from '@sandbox-routing/testkit';
import { type ConsumerDecidedRecord, subscribeTrail, type TrailSubscription } from '@sandbox-routing/trail';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { DEAD_LETTER_TOPIC_CONFIG, EVENTS_TOPIC_CONFIG } from '../stack/services';
import { checkoutLauncher, type Launcher, PAYMENTS_PROGRAM } from './launcher';
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
    // The secured paths (Kafka's SASL_SSL listener, the Temporal TLS terminator), for tests over them.
    STACK_KAFKA_SASL_SSL_BROKERS: addresses.STACK_KAFKA_SASL_SSL_BROKERS,
    STACK_KAFKA_SASL_USERNAME: addresses.STACK_KAFKA_SASL_USERNAME,
    STACK_KAFKA_SASL_PASSWORD: addresses.STACK_KAFKA_SASL_PASSWORD,
    STACK_TLS_CA_FILE: addresses.STACK_TLS_CA_FILE,
    STACK_TEMPORAL_TLS_ADDRESS: addresses.STACK_TEMPORAL_TLS_ADDRESS,
    STACK_TEMPORAL_TLS_CERT_FILE: addresses.STACK_TEMPORAL_TLS_CERT_FILE,
    STACK_TEMPORAL_TLS_KEY_FILE: addresses.STACK_TEMPORAL_TLS_KEY_FILE,
    STACK_TLS_WRONG_CA_FILE: addresses.STACK_TLS_WRONG_CA_FILE,
    STACK_TLS_WRONG_CERT_FILE: addresses.STACK_TLS_WRONG_CERT_FILE,
    STACK_TLS_WRONG_KEY_FILE: addresses.STACK_TLS_WRONG_KEY_FILE,
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
  /** Where the order worker's own activities ran (reserve, price, confirm). */
  activitiesOn: string[];
  /** Where the payments service (another workload) charged the order; undefined when it did not. */
  paymentsOn: string | undefined;
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
  paymentsBaseline?: string;
  notifierBaseline?: string;
  /** The notifier's consumer group (its baseline's; forks use `<group>-<sandbox>`). */
  notifierGroup?: string;
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

/** A workload of the sample application that a sandbox can fork here. */
export type Workload = 'ingress' | 'worker' | 'payments' | 'notifier';

/**
 * The whole pipeline on the local stack, each service a real process: what the demo shows and what the
 * end-to-end tests check. Sandboxes are registered in the routeserver stand-in, as Signadot would.
 */
export class Pipeline {
  readonly topic: string;
  readonly consumerGroup: string;
  readonly taskQueue: string;
  /**
   * The payments service's shared queue: the sample workflow's constant (a workflow cannot read settings),
   * so every pipeline's baseline payments service polls it; forks poll `<queue>@<sandbox>`.
   */
  readonly paymentsTaskQueue = SAMPLE_TASK_QUEUES.payments;
  readonly ingressBaseline: string;
  readonly workerBaseline: string;
  readonly paymentsBaseline: string;
  readonly notifierBaseline: string;
  readonly notifierGroup: string;
  /** The application declaration the services read (an isolated pipeline writes its own). */
  readonly applicationFile: string | undefined;
  readonly namespace: string;
  readonly services: ServiceProcess[] = [];
  private connection: Connection | undefined;
  private client: Client | undefined;
  /** What the consumer workloads besides the ingress (the notifier) did with each event, from the trail. */
  private readonly consumerSteps = new Map<string, ConsumerDecidedRecord[]>();
  private consumerTrail: Promise<TrailSubscription> | undefined;
  /** Settings over the stack's plaintext addresses for every service: see {@link overAddresses}. */
  private addressOverrides: NodeJS.ProcessEnv = {};

  constructor(private readonly options: PipelineOptions) {
    this.topic = options.topic ?? 'events';
    this.consumerGroup = options.consumerGroup ?? 'ingress';
    this.taskQueue = options.taskQueue ?? 'orders';
    this.ingressBaseline = options.ingressBaseline ?? 'ingress';
    this.workerBaseline = options.workerBaseline ?? 'worker';
    this.paymentsBaseline = options.paymentsBaseline ?? 'payments';
    this.notifierBaseline = options.notifierBaseline ?? 'notifier';
    this.notifierGroup = options.notifierGroup ?? 'notifier';
    this.namespace = options.namespace ?? 'local';
    this.applicationFile =
      options.topic === undefined ? undefined : path.join(options.logDir, 'application.yaml');
  }

  /** The pipeline's workloads as an application declaration (YAML), for ROUTING_APPLICATION_FILE. */
  private writeApplicationFile(): void {
    if (!this.applicationFile) return;
    mkdirSync(path.dirname(this.applicationFile), { recursive: true });
    writeFileSync(
      this.applicationFile,
      [
        '# This pipeline as an application: what each workload serves (ROUTING_APPLICATION_FILE).',
        'workloads:',
        `  - name: worker`,
        `    baseline: { kind: Deployment, namespace: ${this.namespace}, name: ${this.workerBaseline} }`,
        `    taskQueues: [${this.taskQueue}]`,
        `  - name: payments`,
        `    baseline: { kind: Deployment, namespace: ${this.namespace}, name: ${this.paymentsBaseline} }`,
        `    taskQueues: [${this.paymentsTaskQueue}]`,
        `  - name: ingress`,
        `    baseline: { kind: Deployment, namespace: ${this.namespace}, name: ${this.ingressBaseline} }`,
        `    consumers: [{ topic: ${this.topic}, group: ${this.consumerGroup} }]`,
        `  - name: notifier`,
        `    baseline: { kind: Deployment, namespace: ${this.namespace}, name: ${this.notifierBaseline} }`,
        `    consumers: [{ topic: ${this.topic}, group: ${this.notifierGroup} }]`,
        '',
      ].join('\n'),
    );
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
      paymentsBaseline: `payments-${id}`,
      notifierBaseline: `notifier-${id}`,
      notifierGroup: `notifier-${id}`,
    });
    pipeline.writeApplicationFile();
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

  /**
   * Points every service started from now on (and the producer) at other addresses with their
   * settings, e.g. the stack's secured paths (`KAFKA_BROKERS` of the SASL_SSL listener with
   * `KAFKA_SASL_*`). The harness itself keeps the plaintext addresses for topics and outcomes.
   */
  overAddresses(env: NodeJS.ProcessEnv): void {
    this.addressOverrides = env;
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
      ...this.addressOverrides,
      SIGNADOT_BASELINE_NAMESPACE: this.namespace,
      SIGNADOT_SANDBOX_NAME: sandbox,
      ...(this.applicationFile ? { ROUTING_APPLICATION_FILE: this.applicationFile } : {}),
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

  /**
   * One instance of the order worker. The first one also starts the baseline payments service beside
   * it (once per pipeline): every order is charged through it, so no order completes without it.
   */
  async startWorker(sandbox = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    this.paymentsService ??= this.startPayments();
    const [worker] = await Promise.all([
      this.startRouted('worker', sandbox, {
        SIGNADOT_BASELINE_NAME: this.workerBaseline,
        // The fork is "the pull request": it runs the new pricing.
        WORKER_VARIANT: sandbox ? 'v2' : 'standard',
        // The test runner's prebuilt bundle (see test-runner.ts), when there is one.
        ...(process.env.PIPELINE_WORKFLOW_BUNDLE
          ? { WORKER_WORKFLOW_BUNDLE: process.env.PIPELINE_WORKFLOW_BUNDLE }
          : {}),
        ...extraEnv,
      }),
      this.paymentsService,
    ]);
    return worker;
  }

  /** The baseline payments service the first worker started. */
  private paymentsService: Promise<ServiceProcess> | undefined;

  /**
   * One instance of the payments service (Python, `python -m payments`): the baseline polls the pipeline's
   * payments queue, a sandbox's fork `<queue>@<sandbox>` and runs the `v2` variant (its pull request).
   * It needs no routing settings: only its queue and its sandbox name.
   */
  async startPayments(sandbox = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    return this.launch({
      name: `payments-${instanceLabel(sandbox)}`,
      python: PAYMENTS_PROGRAM,
      env: {
        ...this.serviceEnv(sandbox),
        PAYMENTS_TASK_QUEUE: this.paymentsTaskQueue,
        PAYMENTS_VARIANT: sandbox ? 'v2' : 'standard',
        ...extraEnv,
      },
    });
  }

  /**
   * One instance of the notifier, the application's second consumer of the events topic (its own group):
   * the baseline decides by the notifier's rules and forwards a fork's events to its own topic.
   */
  async startNotifier(sandbox = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    return this.startRouted('notifier', sandbox, {
      SIGNADOT_BASELINE_NAME: this.notifierBaseline,
      KAFKA_CONSUMER_GROUP: this.notifierGroup,
      ...extraEnv,
    });
  }

  /** One instance (`sandbox`, or the baseline) of a Node service package, with its preload. */
  private startRouted(
    workload: 'ingress' | 'worker' | 'notifier',
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
          CONSOLE_TRACE_URL: this.options.stack.JAEGER_URL ?? '',
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
   * Starts, all at once, the baseline ingress and worker (with the baseline payments service) and each
   * sandbox's forked services (a forked ingress creates its sandbox topic). Resolves to them in that
   * order: the baseline ingress, the baseline worker, then each sandbox's forks in the order given.
   */
  startServices(sandboxes: { name: string; forks: Workload[] }[]): Promise<ServiceProcess[]> {
    const start = {
      ingress: this.startIngress,
      worker: this.startWorker,
      payments: this.startPayments,
      notifier: this.startNotifier,
    };
    return Promise.all([
      this.startIngress(),
      this.startWorker(),
      ...sandboxes.flatMap(({ name, forks }) => forks.map((fork) => start[fork].call(this, name))),
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
  registerSandbox(name: string, routingKey: string, forks: Workload[]): Promise<void> {
    const baseline = {
      ingress: this.ingressBaseline,
      worker: this.workerBaseline,
      payments: this.paymentsBaseline,
      notifier: this.notifierBaseline,
    };
    return this.admin('PUT', `/admin/sandboxes/${name}`, {
      routingKey,
      forks: forks.map((fork) => ({ kind: 'Deployment', namespace: this.namespace, name: baseline[fork] })),
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

  /** The topic the baseline ingress forwards a sandbox's events to (`<topic>.<group>.sandbox.<name>`). */
  sandboxTopic(sandbox: string): string {
    return forwardTopicOf(this.topic, this.consumerGroup, sandbox);
  }

  /** The topic the baseline notifier forwards a sandbox's events to (`<topic>.<notifier group>.sandbox.<name>`). */
  notifierTopic(sandbox: string): string {
    return forwardTopicOf(this.topic, this.notifierGroup, sandbox);
  }

  /** Runs the ingress's teardown command for a sandbox (exit code, JSON report on stdout). */
  teardownIngress(sandbox: string, ...args: string[]): Promise<ProcessRun> {
    return this.teardownConsumer('ingress', sandbox, ...args);
  }

  /**
   * Runs the Kafka teardown command for a consumer workload's fork (the ingress's or the notifier's: the
   * same command, told the workload's baseline and group), returning its exit code and JSON report.
   */
  async teardownConsumer(
    workload: 'ingress' | 'notifier',
    sandbox: string,
    ...args: string[]
  ): Promise<ProcessRun> {
    const consumer =
      workload === 'ingress'
        ? { baseline: this.ingressBaseline, group: this.consumerGroup }
        : { baseline: this.notifierBaseline, group: this.notifierGroup };
    const launch = (this.options.launcher ?? checkoutLauncher).launch(
      'ingress/dist/teardown.js',
      ['--sandbox', sandbox, '--json', ...args],
      {
        ...this.serviceEnv(''),
        SIGNADOT_BASELINE_NAME: consumer.baseline,
        KAFKA_CONSUMER_GROUP: consumer.group,
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
    const reports = (result.activities as { name?: string; instance?: string }[] | undefined) ?? [];
    const activities = reports.filter((a) => a.name !== 'chargePayment');
    return {
      eventId,
      workflowId,
      status: description.status.name,
      ingestedBy: typeof memo.ingestedBy === 'string' ? memo.ingestedBy : undefined,
      ranOn: workflow?.instance,
      activitiesOn: activities.map((a) => a.instance ?? '?'),
      paymentsOn: reports.find((a) => a.name === 'chargePayment')?.instance,
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

  /**
   * Starts reading the trail's `consumer.decided` records (from now on; call it before publishing), so
   * {@link consumerOutcome} can tell who processed an event for the notifier workload.
   */
  watchConsumers(): Promise<TrailSubscription> {
    this.consumerTrail ??= subscribeTrail({
      brokers: this.options.stack.KAFKA_BROKERS.split(','),
      clientId: 'pipeline',
      topic: this.resultsTopic,
      onRecord: (record) => {
        if (record.kind !== 'consumer.decided' || !record.eventId) return;
        this.consumerSteps.set(record.eventId, [...(this.consumerSteps.get(record.eventId) ?? []), record]);
      },
    });
    return this.consumerTrail;
  }

  /** Every `consumer.decided` record of `eventId` for `workload` seen so far (after {@link watchConsumers}). */
  consumerRecords(eventId: string, workload = this.notifierBaseline): ConsumerDecidedRecord[] {
    return (this.consumerSteps.get(eventId) ?? []).filter((r) => r.workload === workload);
  }

  /** Waits until `workload` (default: the notifier) processed `eventId`; resolves with the instance that did. */
  async consumerOutcome(
    eventId: string,
    workload = this.notifierBaseline,
    timeoutMs = 60_000,
  ): Promise<string> {
    if (!this.consumerTrail) throw new Error('call watchConsumers() before publishing');
    await this.consumerTrail;
    return pollUntil(
      () => this.consumerRecords(eventId, workload).find((r) => r.action === 'processed')?.instance,
      { description: `${workload} to process ${eventId}`, timeoutMs, intervalMs: 100 },
    );
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
    await (await this.consumerTrail?.catch(() => undefined))?.stop();
    await this.connection?.close();
  }
}
