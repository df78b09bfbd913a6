import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestTopic, headerStrings, readMessages, stackEnv } from '@sandbox-routing/testkit';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '../paths';

const env = stackEnv();
Runtime.install({ logger: new DefaultLogger('WARN') });
const brokers = env.KAFKA_BROKERS.split(',');
/** The multi-member baggage the Signadot browser extension sends, plus a member with a property. */
const BAGGAGE = 'sd-routing-key=k7x2m9p4q1w8z,sd-sandbox=k7x2m9p4q1w8z,user=alice;prop=1';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('local stack: Kafka', () => {
  let topic: string;
  before(async () => {
    topic = await createTestTopic(brokers, 'smoke');
  });

  it('round-trips a multi-member baggage header produced with kafkajs', async () => {
    const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ value: '{"id":"kafkajs"}', headers: { baggage: BAGGAGE, traceparent: TRACEPARENT } }],
    });
    await producer.disconnect();
    const [{ message } = { message: undefined }] = await readMessages(brokers, topic, 1);
    assert.equal(message?.value?.toString(), '{"id":"kafkajs"}');
    assert.deepEqual(headerStrings(message?.headers), { baggage: BAGGAGE, traceparent: TRACEPARENT });
  });
});

describe('local stack: foreign producers', () => {
  let topic: string;
  before(async () => {
    topic = await createTestTopic(brokers, 'smoke-cli');
  });

  it('keeps headers from the console-producer wrapper and from kcat -H intact for kafkajs', async () => {
    // Console producer: headers, a tab, the value; '~' separates headers so the commas in baggage survive.
    const consoleProducer = spawnSync(
      'bash',
      [
        path.join(REPO_ROOT, 'dev/bin/kafka-cli.sh'),
        'console-producer',
        '--bootstrap-server',
        brokers[0] as string,
        '--topic',
        topic,
        '--property',
        'parse.headers=true',
        '--property',
        'headers.separator=~',
      ],
      { input: `baggage:${BAGGAGE}~traceparent:${TRACEPARENT}\t{"id":"console"}\n`, encoding: 'utf8' },
    );
    assert.equal(consoleProducer.status, 0, consoleProducer.stderr);

    const kcat = spawnSync(
      'kcat',
      [
        '-P',
        '-b',
        brokers[0] as string,
        '-t',
        topic,
        '-H',
        `baggage=${BAGGAGE}`,
        '-H',
        `traceparent=${TRACEPARENT}`,
      ],
      { input: '{"id":"kcat"}\n', encoding: 'utf8' },
    );
    assert.equal(kcat.status, 0, kcat.stderr);

    const messages = await readMessages(brokers, topic, 2);
    const byId = new Map(
      messages.map(({ message: m }) => [JSON.parse(m.value?.toString() ?? '{}').id as string, m]),
    );
    for (const id of ['console', 'kcat']) {
      assert.deepEqual(
        headerStrings(byId.get(id)?.headers),
        { baggage: BAGGAGE, traceparent: TRACEPARENT },
        id,
      );
    }
  });
});

describe('local stack: Temporal', () => {
  let connection: Connection;
  after(async () => {
    await connection?.close();
  });

  it('runs a workflow to completion on the dev server', async () => {
    const taskQueue = `smoke-${randomUUID()}`;
    const nativeConnection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/smoke-workflows'),
    });
    connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const client = new Client({ connection });
    const result = await worker.runUntil(
      client.workflow.execute('greet', { taskQueue, workflowId: `smoke-${randomUUID()}`, args: ['stack'] }),
    );
    await nativeConnection.close();
    assert.equal(result, 'hello, stack');
  });

  it('has the search attributes the design uses', async () => {
    connection ??= await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: 'default',
    });
    assert.ok(customAttributes?.SignadotRoutingKey, 'SignadotRoutingKey registered');
    assert.ok(customAttributes?.SignadotSandbox, 'SignadotSandbox registered');
  });
});

describe('local stack: commands in another shell', () => {
  it('status reaches the ports the stack was started with, whatever this shell says', () => {
    // A shell that never saw the stack's port variables, or that sets others, must still find it.
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dev/dist/stack/cli.js'), 'status'], {
      encoding: 'utf8',
      env: { ...process.env, STACK_KAFKA_PORT: '1', STACK_TEMPORAL_PORT: '2', STACK_ROUTESERVER_PORT: '3' },
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /kafka\s+ready/);
    assert.match(result.stdout, /temporal\s+ready/);
    assert.match(result.stdout, /temporal-tls\s+ready/);
    assert.match(result.stdout, /routeserver\s+ready/);
  });
});
