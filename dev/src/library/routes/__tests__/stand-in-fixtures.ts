import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach } from 'node:test';
import type { InstanceIdentity, RouteTable } from '@sandbox-routing/core';
import type { InitialState } from '../../../routeserver/model';
import { StandInProcess, type StandInProcessOptions } from '../../../routeserver/standin-process';

/**
 * What the route-table tests against the stand-in share: the workloads, stand-ins and tables that are
 * stopped after the tests (tables after each test, stand-ins after the file), and state files.
 */

export const WORKER = { kind: 'Deployment', namespace: 'local', name: 'worker' } as const;
export const INGRESS = { kind: 'Deployment', namespace: 'local', name: 'ingress' } as const;
export const BASELINE: InstanceIdentity = { baseline: WORKER, sandboxName: '' };

const servers: StandInProcess[] = [];
const tables: RouteTable[] = [];

afterEach(async () => {
  await Promise.all(tables.splice(0).map((t) => t.stop()));
});
after(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** A stand-in process, stopped after the test file. */
export async function standIn(options?: StandInProcessOptions): Promise<StandInProcess> {
  const server = await StandInProcess.start(options);
  servers.push(server);
  return server;
}

/** Starts `table` and stops it after the test. */
export function started(table: RouteTable): RouteTable {
  tables.push(table);
  return table.start();
}

/** A stand-in state file (`--state-file`) holding `state`. */
export function stateFile(state: InitialState): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'routes-')), 'state.json');
  writeFileSync(file, JSON.stringify(state));
  return file;
}
