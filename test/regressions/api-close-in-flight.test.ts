// Cause: Fastify answers 503 to requests that arrive while the server closes (return503OnClosing), so at a restart with --take-over API clients whose request crossed the old process's close got errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startApi } from '../api/harness.ts';

test('a request that reaches the API while it closes is served, not answered 503', async () => {
  const h = await startApi({ listen: true });
  const port = Number(new URL(h.baseURL).port);
  const body = JSON.stringify({ name: 'closing.example' });
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  const ended = new Promise((r) => socket.once('close', r));
  try {
    await new Promise((r) => socket.once('connect', r));
    // The first request's body is still coming when close() begins, so the connection is busy,
    // not idle; the second request follows it on the same connection.
    socket.write(`POST /client/v4/zones HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${h.token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 200));
    const closing = h.app.close();
    socket.write(`${body.slice(5)}GET /client/v4/accounts HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${h.token}\r\n\r\n`);
    await Promise.race([ended, new Promise((r) => setTimeout(r, 10_000))]);
    await closing;
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200], text);
  } finally {
    socket.destroy();
    await h.store.close().catch(() => {});
  }
});
