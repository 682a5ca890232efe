// The ClientHello parser against hellos real clients send (node:tls, openssl s_client),
// whatever the read boundaries, and against what is not a ClientHello.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { parseClientHello, MAX_CLIENT_HELLO, type HelloParse } from '../../src/edge/client-hello.ts';

/** Accepts one connection and returns the bytes its client sent before giving up (no server answers). */
async function captureHello(connect: (port: number) => () => void): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      let stop = (): void => {};
      server.once('connection', (socket) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          const all = Buffer.concat(chunks);
          if (parseClientHello(all).kind !== 'incomplete') {
            resolve(all);
            socket.destroy();
            stop();
          }
        });
        socket.on('error', () => {});
        setTimeout(() => reject(new Error('no complete ClientHello within 10 s')), 10_000).unref();
      });
      stop = connect(port);
    });
  } finally {
    server.close();
  }
}

function nodeClient(options: tls.ConnectionOptions) {
  return (port: number) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.on('error', () => {});
    return () => socket.destroy();
  };
}

function expectHello(parse: HelloParse) {
  assert.equal(parse.kind, 'hello', JSON.stringify(parse));
  return (parse as Extract<HelloParse, { kind: 'hello' }>).hello;
}

test('node:tls hellos: name, ALPN in order, versions offered', async () => {
  const modern = expectHello(parseClientHello(await captureHello(nodeClient({ servername: 'WWW.Example.test', ALPNProtocols: ['h2', 'http/1.1'] }))));
  assert.deepEqual(modern, { serverName: 'www.example.test', alpn: ['h2', 'http/1.1'], versions: ['TLSv1.2', 'TLSv1.3'] });
  const old = expectHello(parseClientHello(await captureHello(nodeClient({ servername: 'a.test', maxVersion: 'TLSv1.2' }))));
  assert.equal(old.serverName, 'a.test');
  assert.deepEqual(old.alpn, []);
  assert.equal(old.versions.at(-1), 'TLSv1.2');
  // An IP address is never sent as SNI.
  const bare = expectHello(parseClientHello(await captureHello(nodeClient({}))));
  assert.equal(bare.serverName, null);
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

test('openssl s_client hellos: -tls1_2, -tls1_3 and -alpn', { skip: hasOpenssl ? false : 'openssl not installed' }, async () => {
  const run = (args: string[]) => (port: number) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
    return () => child.kill();
  };
  const v12 = expectHello(parseClientHello(await captureHello(run(['-servername', 'x.test', '-tls1_2']))));
  assert.deepEqual(v12.versions.at(-1), 'TLSv1.2');
  assert.ok(!v12.versions.includes('TLSv1.3'));
  const v13 = expectHello(parseClientHello(await captureHello(run(['-servername', 'x.test', '-tls1_3', '-alpn', 'acme-tls/1']))));
  assert.deepEqual(v13.versions, ['TLSv1.3']);
  assert.deepEqual(v13.alpn, ['acme-tls/1']);
  assert.equal(v13.serverName, 'x.test');
});

test('one parse whatever the read boundaries: every prefix is incomplete, the whole is the hello', async () => {
  const bytes = await captureHello(nodeClient({ servername: 'split.test', ALPNProtocols: ['http/1.1'] }));
  const whole = parseClientHello(bytes);
  expectHello(whole);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.equal(parseClientHello(bytes.subarray(0, cut)).kind, 'incomplete', `prefix of ${cut} bytes`);
  }
  // What follows the hello (the visitor may send more at once) does not change it.
  assert.deepEqual(parseClientHello(Buffer.concat([bytes, Buffer.from('trailing')])), whole);
});

test('a hello split over several TLS records is reassembled', async () => {
  const bytes = await captureHello(nodeClient({ servername: 'records.test' }));
  const message = bytes.subarray(5, 5 + bytes.readUInt16BE(3));
  const records = [];
  for (let at = 0; at < message.length; at += 100) {
    const part = message.subarray(at, at + 100);
    records.push(Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part);
  }
  const split = Buffer.concat(records);
  const parsed = parseClientHello(split);
  assert.equal(expectHello(parsed).serverName, 'records.test');
  assert.equal((parsed as { bytes: number }).bytes, split.length);
});

test('what is not a ClientHello is named, never thrown', () => {
  const reason = (b: Buffer) => {
    const p = parseClientHello(b);
    return p.kind === 'invalid' ? p.reason : p.kind;
  };
  assert.equal(reason(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 'not_tls');
  assert.equal(reason(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])), 'empty_record');
  assert.equal(reason(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])), 'not_client_hello');
  assert.equal(reason(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03])), 'truncated');
  assert.equal(reason(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff])), 'too_large');
  assert.equal(reason(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]), Buffer.alloc(MAX_CLIENT_HELLO)])), 'too_large');
  // Random bytes after a valid record header: never an exception.
  let seed = 7;
  for (let i = 0; i < 2_000; i++) {
    const body = Buffer.alloc(1 + (i % 300));
    for (let j = 0; j < body.length; j++) body[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    body[0] = 0x01;
    const len = body.length - 4;
    if (len > 0) body.writeUIntBE(len, 1, 3);
    parseClientHello(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, body.length >> 8, body.length & 0xff]), body]));
  }
});
