import { Client, Connection } from '@temporalio/client';
import { nanoid } from 'nanoid';
import { example } from './workflows';

async function run() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const client = new Client({ connection, namespace: 'default' });

  const handle = await client.workflow.start(example, {
    taskQueue: 'hello-world',
    args: ['Temporal'],
    workflowId: `workflow-${nanoid()}`,
  });
  console.log(JSON.stringify(await handle.result()));
  await connection.close();
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
