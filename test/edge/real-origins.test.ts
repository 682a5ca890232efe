// Real origins from Debian configured exactly as Cloudflare's guide says: nginx with
// `ssl_verify_client on; ssl_client_certificate <CA>` and Apache with `SSLVerifyClient require`,
// `SSLVerifyDepth 1`, `SSLCACertificateFile <CA>`. Pulls succeed with AOP on (global and zone
// level) and fail with it off. Skipped with a message when a binary is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigBuilder, clientCert, newCa, newInstallation, serverCert, type TestInstallation } from '../helpers/pki.ts';
import { apachePeer, missingPeer, nginxPeer, startPeer, type RunningPeer } from '../helpers/peers.ts';
import { startTestEdge, Visitor, type TestEdge } from './harness.ts';
import type { PemPair } from '../../src/pki/index.ts';

let inst: TestInstallation;
let customerCa: PemPair;
let zoneLeaf: PemPair;
let files: Record<string, string>;
const visitor = new Visitor();

before(async () => {
  inst = await newInstallation();
  customerCa = await newCa('customer CA');
  zoneLeaf = await clientCert(customerCa, 'zone-level client');
  const server = await serverCert(await newCa('origin server CA'), ['origin.test']);
  files = {
    'server.crt': server.certPem,
    'server.key': server.keyPem,
    // The CA file Cloudflare's guide installs: the origin-pull CA (global) plus the customer's CA (zone level).
    'origin-pull-ca.pem': inst.originPullCa.certPem + customerCa.certPem,
    'index.html': 'hello from apache\n',
  };
});

after(() => visitor.close());

async function edgeFor(port: number): Promise<TestEdge> {
  const b = new ConfigBuilder(inst);
  const global = b.zone('global.test', { tlsClientAuth: 'on' });
  b.record(global, 'www.global.test', { httpsPort: port });
  const zone = b.zone('zone.test', { aopEnabled: true });
  b.cert(zone, 'zone', zoneLeaf);
  b.record(zone, 'www.zone.test', { httpsPort: port });
  const off = b.zone('off.test');
  b.record(off, 'www.off.test', { httpsPort: port });
  return startTestEdge(inst, b.build());
}

test('nginx (ssl_verify_client on): AOP on passes, off fails', async (t) => {
  const nginx = nginxPeer({
    files,
    snippet: (ctx) => `
    server {
        listen 127.0.0.1:${ctx.port} ssl;
        ssl_certificate ${ctx.path('server.crt')};
        ssl_certificate_key ${ctx.path('server.key')};
        ssl_client_certificate ${ctx.path('origin-pull-ca.pem')};
        ssl_verify_client on;
        location / {
            add_header X-Client-DN $ssl_client_s_dn always;
            return 200 "verify=$ssl_client_verify\\n";
        }
    }`,
  });
  const missing = missingPeer(nginx);
  if (missing) return t.skip(missing);
  const peer: RunningPeer = await startPeer(nginx);
  const edge = await edgeFor(peer.port);
  try {
    const global = await visitor.get(edge.httpPort, 'www.global.test');
    assert.equal(global.status, 200, global.text);
    assert.equal(global.text, 'verify=SUCCESS\n');
    assert.match(String(global.headers['x-client-dn']), /CN=originpull global client/);
    const zone = await visitor.get(edge.httpPort, 'www.zone.test');
    assert.equal(zone.status, 200, zone.text);
    assert.match(String(zone.headers['x-client-dn']), /CN=zone-level client/);
    // nginx answers a missing certificate with its own 400 page.
    const off = await visitor.get(edge.httpPort, 'www.off.test');
    assert.equal(off.status, 400);
    assert.match(off.text, /No required SSL certificate was sent/);
  } finally {
    await edge.close();
    await peer.stop();
  }
});

test('Apache (SSLVerifyClient require, SSLVerifyDepth 1): AOP on passes, off fails with 525', async (t) => {
  const apache = apachePeer({
    files,
    snippet: (ctx) => `
Listen 127.0.0.1:${ctx.port}
<VirtualHost 127.0.0.1:${ctx.port}>
    ServerName origin.test
    DocumentRoot "${ctx.dir}"
    <Directory "${ctx.dir}">
        Require all granted
    </Directory>
    SSLEngine on
    SSLCertificateFile ${ctx.path('server.crt')}
    SSLCertificateKeyFile ${ctx.path('server.key')}
    SSLVerifyClient require
    SSLVerifyDepth 1
    SSLCACertificateFile ${ctx.path('origin-pull-ca.pem')}
    SSLOptions +StdEnvVars
    Header always set X-Client-CN "%{SSL_CLIENT_S_DN_CN}e"
</VirtualHost>`,
  });
  const missing = missingPeer(apache);
  if (missing) return t.skip(missing);
  const peer = await startPeer(apache);
  const edge = await edgeFor(peer.port);
  try {
    const global = await visitor.get(edge.httpPort, 'www.global.test', '/index.html');
    assert.equal(global.status, 200, global.text);
    assert.equal(global.text, 'hello from apache\n');
    assert.equal(global.headers['x-client-cn'], 'originpull global client');
    const zone = await visitor.get(edge.httpPort, 'www.zone.test', '/index.html');
    assert.equal(zone.status, 200, zone.text);
    assert.equal(zone.headers['x-client-cn'], 'zone-level client');
    const off = await visitor.get(edge.httpPort, 'www.off.test', '/index.html');
    assert.equal(off.status, 525, off.text);
  } finally {
    await edge.close();
    await peer.stop();
  }
});
