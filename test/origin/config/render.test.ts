// The generators' own choices, without a server: defaults, placeholders, the HAProxy key rule, the
// Apache Listen rule, and input errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen, parseUpstream, renderOriginConfig } from '../../../src/origin/index.ts';

const base = { caFile: '/etc/ssl/aop-ca.pem', phase: 'enforce' as const };

describe('renderOriginConfig', () => {
  it('fills the Debian placeholders for the origin certificate and the log', () => {
    const nginx = renderOriginConfig({ ...base, server: 'nginx' });
    assert.match(nginx, /ssl_certificate {5}\/etc\/nginx\/certs\/origin\.crt;/);
    assert.match(nginx, /access_log \/var\/log\/nginx\/originpull-aop\.log originpull_aop;/);
    assert.match(nginx, /listen 443 ssl;/);
    assert.doesNotMatch(nginx, /server_name/);
    assert.match(nginx, /return 200 "origin ok, client certificate: \$ssl_client_verify\\n";/);
  });

  it('Apache: opens the port only when --listen is given (Debian\'s ports.conf already listens on 443)', () => {
    assert.doesNotMatch(renderOriginConfig({ ...base, server: 'apache' }), /^Listen /m);
    const custom = renderOriginConfig({ ...base, server: 'apache', listen: '127.0.0.1:8443' });
    assert.match(custom, /^Listen 127\.0\.0\.1:8443$/m);
    assert.match(custom, /^<VirtualHost 127\.0\.0\.1:8443>$/m);
    assert.match(renderOriginConfig({ ...base, server: 'apache' }), /a2enmod ssl &&/);
    assert.match(renderOriginConfig({ ...base, server: 'apache', upstream: 'http://127.0.0.1:3000' }), /a2enmod ssl headers proxy proxy_http/);
  });

  it('HAProxy: the key beside the certificate as <crt>.key; otherwise says how to put it there', () => {
    const beside = renderOriginConfig({ ...base, server: 'haproxy', certFile: '/etc/haproxy/origin.pem', keyFile: '/etc/haproxy/origin.pem.key' });
    assert.doesNotMatch(beside, /^# +cp /m);
    const apart = renderOriginConfig({ ...base, server: 'haproxy', certFile: '/etc/haproxy/origin.pem', keyFile: '/etc/ssl/private/origin.key' });
    assert.match(apart, /# {3}cp \/etc\/ssl\/private\/origin\.key \/etc\/haproxy\/origin\.pem\.key/);
  });

  it('Caddy: a named site on 443 is the bare name; on another port the whole port with a host check; no redirects', () => {
    assert.match(renderOriginConfig({ ...base, server: 'caddy', serverName: 'app.example.com' }), /^app\.example\.com \{$/m);
    const other = renderOriginConfig({ ...base, server: 'caddy', serverName: 'app.example.com', listen: '8443' });
    assert.match(other, /^https:\/\/:8443 \{$/m);
    assert.match(other, /^\t@elsewhere not host app\.example\.com$/m);
    assert.match(renderOriginConfig({ ...base, server: 'caddy' }), /^https:\/\/:443 \{$/m);
    assert.match(renderOriginConfig({ ...base, server: 'caddy' }), /^\{\n(\t#[^\n]*\n)*\tauto_https disable_redirects\n\}$/m);
  });

  it('quotes paths with spaces', () => {
    assert.match(renderOriginConfig({ ...base, server: 'nginx', caFile: '/etc/my certs/ca.pem' }), /ssl_client_certificate "\/etc\/my certs\/ca\.pem";/);
    assert.match(renderOriginConfig({ ...base, server: 'caddy', caFile: '/etc/my certs/ca.pem' }), /trusted_ca_cert_file "\/etc\/my certs\/ca\.pem"/);
  });

  it('rejects a bad --listen or --upstream with the expected form', () => {
    assert.throws(() => parseListen('http://x'), /expected PORT or HOST:PORT/);
    assert.throws(() => parseListen('70000'), /expected PORT or HOST:PORT/);
    assert.deepEqual(parseListen('[::1]:8443'), { host: '[::1]', port: 8443 });
    assert.throws(() => parseUpstream('ftp://x'), /only http:\/\/ and https:\/\//);
    assert.deepEqual(parseUpstream('127.0.0.1:3000'), { scheme: 'http', host: '127.0.0.1', port: 3000, authority: '127.0.0.1:3000' });
  });
});
