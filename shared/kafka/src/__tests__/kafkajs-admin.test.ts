import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Admin } from 'kafkajs';
import { KafkajsAdmin } from '../adapter';

/** A kafkajs admin stand-in over a set of topics; each request answers a moment later, like a broker. */
class ScriptedAdmin {
  readonly topics = new Set<string>();
  readonly creates: string[] = [];
  /** Topics kafkajs would have logged "Topic creation errors" for (TOPIC_ALREADY_EXISTS). */
  readonly alreadyExisted: string[] = [];

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async listTopics(): Promise<string[]> {
    await new Promise((resolve) => setImmediate(resolve));
    return [...this.topics];
  }
  async createTopics({ topics }: { topics: { topic: string }[] }): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    const [{ topic }] = topics as [{ topic: string }];
    this.creates.push(topic);
    if (this.topics.has(topic)) {
      this.alreadyExisted.push(topic);
      return false;
    }
    this.topics.add(topic);
    return true;
  }
}

describe('kafkajs admin: sandbox topics created on demand', () => {
  it('sends one CreateTopics for a burst of records to a new sandbox, not one per record', async () => {
    const scripted = new ScriptedAdmin();
    const admin = new KafkajsAdmin(scripted as unknown as Admin);
    const spec = { topic: 'events.sandbox.pr-7', partitions: 3, replicationFactor: 1, config: {} };
    const created = await Promise.all(Array.from({ length: 20 }, () => admin.ensureTopic(spec)));
    assert.deepEqual(scripted.creates, ['events.sandbox.pr-7']);
    assert.deepEqual(scripted.alreadyExisted, [], 'no "Topic creation errors" for kafkajs to log');
    assert.equal(created.filter(Boolean).length, 1, 'one caller created it');
    // Later: it exists, nobody creates it again.
    assert.equal(await admin.ensureTopic(spec), false);
    assert.equal(scripted.creates.length, 1);
  });
});
