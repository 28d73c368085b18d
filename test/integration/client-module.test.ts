import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type DevServer, startDevServer } from '../../scripts/temporalServer.ts';
import { ENCRYPTED, EncryptingCodec } from '../clientModule/codec.ts';
import { ORIGIN } from '../clientModule/encrypting.ts';
import { httpEvent, uid } from '../helpers/events.ts';
import { startWarmHandler, type WarmHandler } from '../helpers/warmHandler.ts';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const TASK_QUEUE = `client-module-${uid()}`;

const ROUTES = {
  workflows: { echo: { taskQueue: TASK_QUEUE }, inbox: { taskQueue: TASK_QUEUE } },
  routes: [
    {
      name: 'echo',
      http: { method: 'POST', path: '/echo' },
      workflowType: 'echo',
      workflowId: 'echo-{body.id}',
      input: '{body}',
    },
    {
      name: 'note',
      http: { method: 'POST', path: '/inbox/{id}/notes' },
      workflowType: 'inbox',
      workflowId: 'inbox-{path.id}',
      action: 'signalWithStart',
      signal: { name: 'note', args: ['{body}'] },
    },
    {
      name: 'close',
      http: { method: 'POST', path: '/inbox/{id}/close' },
      workflowType: 'inbox',
      workflowId: 'inbox-{path.id}',
      action: 'update',
      update: { name: 'close', args: [] },
    },
  ],
};

/**
 * The project's client module, built into the functions with `--client-module`: an encrypting payload
 * codec and a client interceptor, against a real server and a worker with the same codec.
 */
describe('a client module with an encrypting codec and an interceptor, bundled by the build', () => {
  let server: DevServer;
  let dir: string;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let http: WarmHandler;
  let plain: Client;
  let plainConnection: Connection;

  before(async () => {
    server = await startDevServer();
    dir = await mkdtemp(join(tmpdir(), 'client-module-'));
    await writeFile(join(dir, 'routes.json'), JSON.stringify(ROUTES));
    await run(
      process.execPath,
      [
        'infra/build.ts',
        '--routes',
        join(dir, 'routes.json'),
        '--client-module',
        'test/clientModule/encrypting.ts',
        '--outdir',
        join(dir, 'dist'),
      ],
      { timeout: 120_000 },
    );
    connection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection,
      namespace: server.namespace,
      taskQueue: TASK_QUEUE,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: here('../clientModule/workflows.ts'),
        workflowInterceptorModules: [here('../clientModule/origin.ts')],
        logger: new DefaultLogger('ERROR'),
      }),
      dataConverter: { payloadCodecs: [new EncryptingCodec()] },
    });
    running = worker.run();
    http = await startWarmHandler({
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace },
      outdir: join(dir, 'dist'),
    });
    plainConnection = await Connection.connect({ address: server.address });
    plain = new Client({ connection: plainConnection, namespace: server.namespace });
  });
  after(async () => {
    await http?.stop();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => {});
    await connection?.close();
    await plainConnection?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const { result, error } = await http.invoke(httpEvent({ path, body, headers }));
    assert.equal(error, undefined, JSON.stringify(error));
    const response = result as APIGatewayProxyStructuredResultV2;
    return { statusCode: response.statusCode, body: JSON.parse(String(response.body)) };
  };
  const get = async (path: string) => {
    const { result } = await http.invoke(httpEvent({ method: 'GET', path }));
    const response = result as APIGatewayProxyStructuredResultV2;
    return { statusCode: response.statusCode, body: JSON.parse(String(response.body)) };
  };
  /**
   * The encoding of every payload of a workflow's history, read without the codec: what the server
   * holds. Headers are left out: a header's payload is its interceptor's to encode (the SDK passes
   * headers through no codec), and the test's interceptor writes plain JSON, as tracing interceptors do.
   */
  const storedPayloads = async (workflowId: string) => {
    const history = await plain.workflow.getHandle(workflowId).fetchHistory();
    const encodings: string[] = [];
    const data: Buffer[] = [];
    const walk = (node: unknown, key: string): void => {
      if (node === null || typeof node !== 'object' || key === 'header') return;
      const payload = node as { metadata?: { encoding?: Uint8Array }; data?: Uint8Array };
      if (payload.metadata?.encoding instanceof Uint8Array) {
        encodings.push(Buffer.from(payload.metadata.encoding).toString());
        if (payload.data instanceof Uint8Array) data.push(Buffer.from(payload.data));
      }
      for (const [name, child] of Object.entries(node)) walk(child, name);
    };
    walk(history, '');
    // Every payload's bytes, where a plaintext value would show.
    return { text: Buffer.concat(data).toString('latin1'), encodings };
  };

  it('the worker decodes the input, Prefer: wait and the status endpoint decode the result, and the server holds only ciphertext', async () => {
    const id = uid();
    const marker = `plaintext-marker-${id}`;

    const waited = await post('/echo', { id, marker }, { prefer: 'wait=10' });
    const status = await get(`/workflows/echo-${id}`);

    assert.equal(waited.statusCode, 200);
    assert.deepEqual(waited.body.result, { input: { id, marker }, origin: ORIGIN });
    assert.equal(status.statusCode, 200);
    assert.deepEqual(status.body.result, { input: { id, marker }, origin: ORIGIN });
    assert.deepEqual(status.body.startedBy, { route: 'echo', action: 'start' });
    const { text, encodings } = await storedPayloads(`echo-${id}`);
    assert.ok(encodings.length >= 3, `${encodings.length} payloads: input, memo, result`);
    assert.deepEqual(new Set(encodings), new Set([ENCRYPTED]));
    assert.ok(!text.includes(marker), 'no plaintext in the history');
  });

  it('signals and updates go through the codec and the interceptor too', async () => {
    const id = uid();
    const marker = `signal-marker-${id}`;

    const noted = await post(`/inbox/${id}/notes`, { marker });
    const closed = await post(`/inbox/${id}/close`, {});

    assert.equal(noted.statusCode, 202);
    assert.equal(closed.statusCode, 200);
    assert.deepEqual(closed.body.update.result, { notes: [{ marker }], origins: [ORIGIN, ORIGIN, ORIGIN] });
    const { text, encodings } = await storedPayloads(`inbox-${id}`);
    assert.deepEqual(new Set(encodings), new Set([ENCRYPTED]));
    assert.ok(!text.includes(marker));
  });
});
