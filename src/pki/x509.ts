// The one entry to @peculiar/x509: its tsyringe container needs the reflect polyfill loaded
// before the library itself, and the library needs a WebCrypto provider.
// Tested in test/pki/csr.test.ts (every use of @peculiar/x509 comes through here).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
