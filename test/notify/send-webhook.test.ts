import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postWebhook, WEBHOOK_TEST_MESSAGE } from '../../src/notify/index.ts';
import { closedPort, startReceiver } from './receiver.ts';

test('a POST carries the JSON body and the secret in cf-webhook-auth', async (t) => {
  const receiver = await startReceiver({ respond: () => 204 });
  t.after(() => receiver.close());
  const res = await postWebhook({ url: receiver.url, secret: 's3cret', body: JSON.stringify(WEBHOOK_TEST_MESSAGE) });
  assert.deepEqual(res, { ok: true, status: 204 });
  const [got] = receiver.received;
  assert.deepEqual(got.body, { text: 'Hello World! This is a test message sent from originpull. If you can see this, your webhook is configured properly.' });
  assert.equal(got.headers['cf-webhook-auth'], 's3cret');
  assert.equal(got.headers['content-type'], 'application/json');

  await postWebhook({ url: receiver.url, secret: null, body: '{}' });
  assert.equal(receiver.received[1].headers['cf-webhook-auth'], undefined, 'no secret, no header');
});

test('failures say what happened: HTTP status, refused connection, timeout, redirect, unknown host', async (t) => {
  const receiver = await startReceiver({ respond: (n) => (n === 1 ? 500 : n === 2 ? 301 : 'hang') });
  t.after(() => receiver.close());
  assert.deepEqual(await postWebhook({ url: receiver.url, body: '{}' }), { ok: false, status: 500, error: 'the receiver answered HTTP 500', aborted: false });
  assert.deepEqual(await postWebhook({ url: receiver.url, body: '{}' }), { ok: false, status: 301, error: 'the receiver answered HTTP 301', aborted: false });
  const hung = await postWebhook({ url: receiver.url, body: '{}', timeoutMs: 300 });
  assert.deepEqual(hung, { ok: false, status: null, error: 'timed out after 300 ms without an answer', aborted: false });

  const port = await closedPort();
  const refused = await postWebhook({ url: `http://127.0.0.1:${port}/`, body: '{}' });
  assert.deepEqual(refused, { ok: false, status: null, error: `connection refused by 127.0.0.1:${port}`, aborted: false });

  const unknown = await postWebhook({ url: 'http://no-such-host.invalid/', body: '{}', timeoutMs: 5_000 });
  assert.equal(unknown.ok, false);
  assert.equal(unknown.ok ? '' : unknown.error, 'host no-such-host.invalid not found (DNS)');
});

test('an abort signal ends the attempt and says so', async (t) => {
  const receiver = await startReceiver({ respond: () => 'hang' });
  t.after(() => receiver.close());
  const ac = new AbortController();
  const pending = postWebhook({ url: receiver.url, body: '{}', signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const res = await pending;
  assert.equal(res.ok, false);
  assert.equal(res.ok ? null : res.aborted, true);
});
