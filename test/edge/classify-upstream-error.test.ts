// Every row of the upstream error table: what an origin connection / the TLS stack throws → the 52x a visitor sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyUpstreamError,
  markConnectError,
  ClientCertificateUnusableError,
  OriginConnectTimeoutError,
  OriginError,
  OriginResponseTimeoutError,
  renderErrorPage,
  UnknownHostError,
} from '../../src/edge/index.ts';
import type { SslMode } from '../../src/domain/index.ts';
import { OriginClosedError } from '../../src/edge/origin-connection.ts';

const sysErr = (code: string, message = code) => Object.assign(new Error(message), { code });

const rows: { name: string; err: () => unknown; mode?: SslMode; first?: boolean; status: number; code: string }[] = [
  { name: 'ECONNREFUSED', err: () => markConnectError(sysErr('ECONNREFUSED')), status: 521, code: 'origin_refused' },
  { name: 'connect timeout', err: () => markConnectError(new OriginConnectTimeoutError('no handshake')), status: 522, code: 'origin_connect_timeout' },
  { name: 'OS connect ETIMEDOUT', err: () => markConnectError(sysErr('ETIMEDOUT')), status: 522, code: 'origin_connect_timeout' },
  { name: 'EHOSTUNREACH', err: () => markConnectError(sysErr('EHOSTUNREACH')), status: 523, code: 'origin_unreachable' },
  { name: 'ENETUNREACH', err: () => markConnectError(sysErr('ENETUNREACH')), status: 523, code: 'origin_unreachable' },
  { name: 'ENOTFOUND', err: () => markConnectError(sysErr('ENOTFOUND')), status: 523, code: 'origin_unreachable' },
  { name: 'EAI_AGAIN', err: () => markConnectError(sysErr('EAI_AGAIN')), status: 523, code: 'origin_unreachable' },
  { name: 'response timeout', err: () => new OriginResponseTimeoutError('silent'), status: 524, code: 'origin_response_timeout' },
  { name: 'TLS 1.3 alert: certificate required', err: () => sysErr('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'alert: bad certificate', err: () => markConnectError(sysErr('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'alert: unknown ca', err: () => markConnectError(sysErr('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA')), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'alert: handshake failure', err: () => markConnectError(sysErr('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE')), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'plain HTTP on the TLS port', err: () => markConnectError(sysErr('ERR_SSL_WRONG_VERSION_NUMBER')), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'reset during the handshake', err: () => markConnectError(sysErr('ECONNRESET')), status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'closed under the first request of a new TLS connection', err: () => new OriginClosedError('other side closed'), first: true, status: 525, code: 'origin_tls_handshake_failed' },
  { name: 'strict: self-signed', err: () => markConnectError(sysErr('DEPTH_ZERO_SELF_SIGNED_CERT')), mode: 'strict', status: 526, code: 'origin_certificate_invalid' },
  { name: 'strict: self-signed in chain', err: () => markConnectError(sysErr('SELF_SIGNED_CERT_IN_CHAIN')), mode: 'strict', status: 526, code: 'origin_certificate_invalid' },
  { name: 'strict: unknown issuer', err: () => markConnectError(sysErr('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), mode: 'strict', status: 526, code: 'origin_certificate_invalid' },
  { name: 'strict: expired', err: () => markConnectError(sysErr('CERT_HAS_EXPIRED')), mode: 'strict', status: 526, code: 'origin_certificate_invalid' },
  { name: 'strict: wrong name', err: () => markConnectError(sysErr('ERR_TLS_CERT_ALTNAME_INVALID')), mode: 'strict', status: 526, code: 'origin_certificate_invalid' },
  { name: 'reset on a reused connection', err: () => new OriginClosedError('other side closed'), status: 502, code: 'origin_error' },
  { name: 'reset after connect (plain HTTP)', err: () => sysErr('ECONNRESET'), mode: 'flexible', status: 502, code: 'origin_error' },
  { name: 'anything else', err: () => new Error('boom'), status: 502, code: 'origin_error' },
  { name: 'a cause chain is followed', err: () => new Error('wrapped', { cause: sysErr('ECONNREFUSED') }), status: 521, code: 'origin_refused' },
  { name: 'an OriginError passes through', err: () => new ClientCertificateUnusableError('key'), status: 502, code: 'client_certificate_unusable' },
];

for (const row of rows) {
  test(`${row.name} → ${row.status}`, () => {
    const err = row.err();
    const classified = classifyUpstreamError(err, row.mode ?? 'full', { firstOnNewTlsConnection: row.first ?? false });
    assert.ok(classified instanceof OriginError);
    assert.equal(classified.status, row.status);
    assert.equal(classified.code, row.code);
    if (!(err instanceof OriginError)) assert.equal(classified.cause, err);
  });
}

test('the renderer names status, what failed and ray id, as HTML or JSON; the detail stays in the log', () => {
  const err = classifyUpstreamError(markConnectError(sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), 'full');
  const html = renderErrorPage(err, 'abc-TEST', 'www.<x>.test', false);
  assert.match(html.contentType, /text\/html/);
  assert.match(html.body, /521: Web server is down/);
  assert.match(html.body, /refused the connection/);
  assert.doesNotMatch(html.body, /ECONNREFUSED|127\.0\.0\.1/);
  assert.match(html.body, /abc-TEST/);
  assert.match(html.body, /www\.&#60;x&#62;\.test/);
  const json = JSON.parse(renderErrorPage(new UnknownHostError('no route'), 'r-1', 'h.test', true).body);
  assert.deepEqual({ status: json.status, code: json.code, ray: json.ray_id }, { status: 404, code: 'unknown_host', ray: 'r-1' });
});

test('526 for an unknown issuer: the log names --origin-ca-file, not Node flags; the visitor text has neither', () => {
  const err = Object.assign(new Error('unable to get local issuer certificate. If the root CA is installed locally, try running Node.js with --use-system-ca'), { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  const out = classifyUpstreamError(err, 'strict');
  assert.equal(out.status, 526);
  assert.match(out.message, /unable to get local issuer certificate; .*--origin-ca-file/);
  assert.doesNotMatch(out.message, /use-system-ca|Node\.js/);
  assert.doesNotMatch(out.visitorMessage, /issuer|--origin-ca-file|Node/);
});
