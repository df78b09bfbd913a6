/** Test helpers for the routeserver stand-in: start/stop, HTTP shortcuts, polling, child processes. */
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { InitialState } from '../model';
import { createRouteserverStandIn, type RouteserverStandInOptions } from '../server';

export const worker = { kind: 'Deployment', namespace: 'local', name: 'worker' } as const;
export const ingress = { kind: 'Deployment', namespace: 'local', name: 'ingress' } as const;
export const rollout = { kind: 'ArgoRollout', namespace: 'other', name: 'worker' } as const;

/** alpha forks worker and ingress; beta forks worker and an ArgoRollout in another namespace. */
export const TWO_SANDBOXES: InitialState = {
  sandboxes: {
    alpha: { routingKey: 'ka', forks: [worker, ingress] },
    beta: { routingKey: 'kb', forks: [rollout, worker] },
  },
};

/** Starts a stand-in on 127.0.0.1 with a free port and closes it when the test ends. Returns its URL. */
export async function startStandIn(t: TestContext, options: RouteserverStandInOptions = {}): Promise<string> {
  const standIn = await createRouteserverStandIn({ ...options, host: '127.0.0.1', port: 0 });
  t.after(() => standIn.close());
  return standIn.url;
}

/** A response with its body read both as text and (when it parses) as JSON. */
export interface Reply {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/** Sends a request; an object body is sent as JSON, a string body as is with a JSON content type. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

/** `GET /api/v1/workloads/routing-rules` with the given query parameters. */
export function getRules(base: string, query: Record<string, string> = {}): Promise<Reply> {
  const qs = new URLSearchParams(query).toString();
  return call(base, 'GET', `/api/v1/workloads/routing-rules${qs ? `?${qs}` : ''}`);
}

/** `PUT` of a JSON body, asserting nothing; callers check the status. */
export function put(base: string, path: string, body: unknown): Promise<Reply> {
  return call(base, 'PUT', path, body);
}

/** A routing rule as the tests spell it: `key → sandbox @ Kind/namespace/name`. */
export function ruleText(rule: unknown): string {
  const r = rule as {
    routingKey: string;
    baseline: { kind: string; namespace: string; name: string };
    destinationSandbox: { name: string };
  };
  return `${r.routingKey} → ${r.destinationSandbox.name} @ ${r.baseline.kind}/${r.baseline.namespace}/${r.baseline.name}`;
}

/** The rules of a routing-rules reply in {@link ruleText} form (none when the field is absent). */
export function ruleTexts(reply: Reply): string[] {
  const rules = (reply.json as { routingRules?: unknown[] }).routingRules ?? [];
  return rules.map(ruleText);
}

export { freePort } from '@sandbox-routing/testkit';

/** Polls `check` until it returns true, failing after `timeoutMs`. Errors from `check` count as "not yet". */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25); // poll interval, not a synchronisation sleep
  }
}

/** Output and exit status of a child process. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Collects a child's output and resolves when it exits. */
export function collect(child: ChildProcess): { output: () => string; done: Promise<ChildResult> } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { output: () => stdout + stderr, done };
}
