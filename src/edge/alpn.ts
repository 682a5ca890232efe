// The application protocol of a visitor TLS connection (ALPN), chosen from the ClientHello before
// any request: HTTP/2 where the visitor offers it and the zone of the name it asked for (SNI)
// allows it, else HTTP/1.1. Pure: tested in test/edge/http2-limits.test.ts.
import { findRoute, type Snapshot } from './snapshot.ts';

/** `undefined` when the visitor offers neither: the handshake fails with no_application_protocol, as with a fixed list. */
export function chooseAlpn(snapshot: Snapshot, servername: string | undefined, offered: readonly string[]): string | undefined {
  if (offered.includes('h2') && http2Allowed(snapshot, servername)) return 'h2';
  return offered.includes('http/1.1') ? 'http/1.1' : undefined;
}

/** A name no route covers (or no SNI) gets the default: on. */
function http2Allowed(snapshot: Snapshot, servername: string | undefined): boolean {
  if (servername === undefined || servername === '') return true;
  let name = servername.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return findRoute(snapshot, name)?.http2 ?? true;
}
