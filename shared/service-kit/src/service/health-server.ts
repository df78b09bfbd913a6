import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { HttpConfig } from '../config';

/** One readiness condition: a name and whether it holds now. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `/healthz` (the process is alive), `/readyz` (every check holds; 503 with the failing ones
 * otherwise) and `/metrics` (Prometheus text) on the service's HTTP port.
 */
export async function startHealthServer(
  http: HttpConfig,
  registry: Registry,
  checks: readonly ReadinessCheck[],
): Promise<HealthServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = Object.fromEntries(checks.map((check) => [check.name, check.ready()]));
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ ready, checks: results });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  const url = await app.listen({ host: http.host, port: http.port });
  return { url, close: () => app.close() };
}
