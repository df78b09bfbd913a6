import type { Application } from './application';
import { RouteTable, type RouteTableOptions, type WorkloadRoutes, workloadKey } from './table';
import type { Owner, WorkloadRef } from './types';

/**
 * The routing rules of every workload of an application, for one process: one {@link RouteTable} per
 * namespace the application spans (one watch stream each; an application in one namespace needs one
 * stream, whatever the number of workloads). The process's own workload's table comes first.
 */
export class ApplicationRoutes {
  private readonly tables: RouteTable[] = [];

  /**
   * @param table options of each table but its workloads; `own` is the process's own workload, which
   *   answers first and names its namespace's table
   */
  constructor(
    readonly application: Application,
    own: WorkloadRef,
    table: Omit<RouteTableOptions, 'baseline' | 'alsoFor'>,
  ) {
    const byNamespace = new Map<string, WorkloadRef[]>([[own.namespace, [own]]]);
    for (const { baseline } of application.workloads) {
      const list = byNamespace.get(baseline.namespace) ?? [];
      if (!list.some((w) => workloadKey(w) === workloadKey(baseline))) list.push(baseline);
      byNamespace.set(baseline.namespace, list);
    }
    for (const [, [first, ...rest]] of byNamespace) {
      this.tables.push(new RouteTable({ ...table, baseline: first as WorkloadRef, alsoFor: rest }));
    }
  }

  start(): this {
    for (const table of this.tables) table.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.tables.map((table) => table.stop()));
  }

  /** The table of the process's own namespace (its own workload answers by default). */
  get own(): RouteTable {
    return this.tables[0] as RouteTable;
  }

  /** Every table, the own one first (for metrics and readiness). */
  all(): readonly RouteTable[] {
    return this.tables;
  }

  get synced(): boolean {
    return this.tables.every((table) => table.synced);
  }

  /** @throws TypeError for a workload the application does not declare */
  forWorkload(workload: WorkloadRef): WorkloadRoutes {
    const table = this.tables.find((t) => t.workloads.some((w) => workloadKey(w) === workloadKey(workload)));
    if (!table) throw new TypeError(`the application declares no workload ${workloadKey(workload)}`);
    return table.forWorkload(workload);
  }

  ownerOf(key: string | undefined, workload: WorkloadRef): Promise<Owner> {
    return this.forWorkload(workload).ownerOf(key);
  }
}
