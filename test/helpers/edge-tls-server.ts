// A TLS server fronted as the edge fronts its own: the ClientHello gate (names without a
// certificate refused with unrecognized_name) and then the certificates' SNI callback.
// connect() reports what a verifying client saw.
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { EdgeCertificates } from '../../src/edge/edge-certificates.ts';
import { decideHello } from '../../src/edge/hello-policy.ts';
import { gateTlsConnection } from '../../src/edge/tls-gate.ts';

export interface CertificateServer {
  port: number;
  connect(servername: string, ca: string): Promise<tls.PeerCertificate>;
  close(): void;
}

export async function serveCertificates(certs: EdgeCertificates): Promise<CertificateServer> {
  const fallback = await certs.ready();
  const tlsServer = tls.createServer({ key: fallback.keyPem, cert: fallback.certPem, SNICallback: certs.sniCallback }, (s) => s.end());
  // A failed handshake is the client's to report.
  tlsServer.on('tlsClientError', () => {});
  const server = net.createServer((socket) =>
    gateTlsConnection(socket, 5_000, {
      decide: (hello) => decideHello(hello, { servesName: (host) => certs.servesName(host) }),
      handOff: (s) => tlsServer.emit('connection', s),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connect: (servername, ca) =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: true }, () => {
          resolve(socket.getPeerCertificate());
          socket.destroy();
        });
        socket.on('error', reject);
      }),
    close: () => server.close(),
  };
}
