import assert from 'node:assert/strict';
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTcpProxy } from '../helpers/tcpProxy.ts';

/** The test proxy before an HTTP/2 server of the test's own on loopback: what it counts and delays. */
describe('startTcpProxy', () => {
  const server = createServer((_, response) => response.end('ok'));
  let address: string;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const requests = async (proxyAddress: string, count: number): Promise<number[]> => {
    const session = connect(`http://${proxyAddress}`);
    try {
      const times: number[] = [];
      for (let index = 0; index < count; index += 1) {
        const begun = performance.now();
        await new Promise<void>((resolve, reject) => {
          const stream = session.request({ ':path': '/', ':method': 'POST' });
          stream.on('error', reject);
          stream.on('data', () => {});
          stream.on('end', () => resolve());
          stream.end('body');
        });
        times.push(performance.now() - begun);
      }
      return times;
    } finally {
      session.close();
    }
  };

  it('counts one call per HTTP/2 stream a client opens, over one connection', async () => {
    const proxy = await startTcpProxy(address);
    try {
      await requests(proxy.address, 3);
      assert.equal(proxy.rpcs, 3);
      assert.equal(proxy.forwarded, 1);
      await requests(proxy.address, 2);
      assert.equal(proxy.rpcs, 5);
      assert.equal(proxy.forwarded, 2);
    } finally {
      await proxy.close();
    }
  });

  it('delays each direction by delayMs: a call takes at least a round trip', async () => {
    const proxy = await startTcpProxy(address, { delayMs: 25 });
    try {
      const [, ...warm] = await requests(proxy.address, 3);
      for (const ms of warm) assert.ok(ms >= 50, `a call took ${ms} ms, less than 2 × 25 ms`);
      assert.equal(proxy.rpcs, 3);
    } finally {
      await proxy.close();
    }
  });
});
