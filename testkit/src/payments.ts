import path from 'node:path';
import { pollUntil } from './poll';
import { freePort, type ProcessRun, type RunningProcess, startProcess } from './processes';

/** Repository root, from this file's compiled location (testkit/dist). */
const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * The sample application's payments service (Python, `python -m payments` from the setup's venv), for
 * tests that run `processOrder` outside the pipeline harness: the workflow charges every order
 * through it. The baseline polls `payments`; `sandboxName` makes it a fork on `payments@<sandbox>`
 * running the `v2` variant.
 */
export class PaymentsService {
  private constructor(
    private readonly process: RunningProcess,
    readonly httpUrl: string,
  ) {}

  static async start(options: {
    temporalAddress: string;
    sandboxName?: string;
    taskQueue?: string;
    env?: Record<string, string>;
  }): Promise<PaymentsService> {
    const port = await freePort();
    const python = path.join(REPO_ROOT, '.tools', 'python', 'bin', 'python');
    const running = startProcess(python, ['-m', 'payments'], {
      cwd: REPO_ROOT,
      inheritEnv: false,
      // Running until stopped: no run-time limit.
      timeoutMs: 24 * 3_600_000,
      env: {
        PATH: process.env.PATH ?? '',
        PYTHONPATH: path.join(REPO_ROOT, 'payments'),
        TEMPORAL_ADDRESS: options.temporalAddress,
        PAYMENTS_TASK_QUEUE: options.taskQueue ?? 'payments',
        SIGNADOT_SANDBOX_NAME: options.sandboxName ?? '',
        PAYMENTS_VARIANT: options.sandboxName ? 'v2' : 'standard',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        LOG_LEVEL: 'warn',
        ...options.env,
      },
    });
    const service = new PaymentsService(running, `http://127.0.0.1:${port}`);
    let exited: ProcessRun | undefined;
    void running.done.then((run) => {
      exited = run;
    });
    try {
      await pollUntil(
        async () => (await fetch(`${service.httpUrl}/readyz`).catch(() => undefined))?.ok === true,
        {
          description: 'the payments service to be ready',
          timeoutMs: 30_000,
          intervalMs: 100,
          abortIf: () => {
            if (exited) throw new Error(`the payments service exited with ${exited.code}: ${exited.stderr}`);
          },
        },
      );
    } catch (error) {
      await service.stop();
      throw error;
    }
    return service;
  }

  /** SIGTERM, then the exit (in-flight charges finish first). */
  async stop(): Promise<void> {
    this.process.kill('SIGTERM');
    await this.process.done;
  }
}
