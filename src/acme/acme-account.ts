// The installation's ACME account: one key per installation and directory, made on first use,
// sealed by the secret box in the store (so every API node signs as the same account), and
// registered with the CA (External Account Binding when configured) before the first order.
// Tested in test/acme/universal-ssl.test.ts and test/acme/eab.test.ts (External Account Binding).
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import acme from 'acme-client';
import type { AcmeConfig } from '../config.ts';
import type { SecretBox, Store } from '../store/index.ts';

export interface AcmeClientOptions {
  /** acme-client's polling of pending challenges and orders. */
  backoff?: { attempts: number; minMs: number; maxMs: number };
}

let agentFor: string | null = null;

/**
 * acme-client sends every request through one axios instance of its module, so the CA bundle is
 * set there (one directory per installation, hence one bundle per process). Its own retries of
 * rate-limited and failed requests are turned off — they sleep for the CA's Retry-After (hours, for
 * a rate limit) while holding the orderer's lock; the orderer backs off per pack and shows the error.
 */
function configureTransport(config: AcmeConfig): void {
  const key = config.caFile ?? '';
  if (agentFor === key) return;
  acme.axios.defaults.httpsAgent = config.caFile === undefined ? undefined : new Agent({ ca: readFileSync(config.caFile, 'utf8'), keepAlive: true });
  const settings = (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings;
  if (settings) {
    settings.retryMaxAttempts = 0;
  }
  agentFor = key;
}

export async function acmeClient(store: Store, secretBox: SecretBox, config: AcmeConfig, opts: AcmeClientOptions = {}): Promise<acme.Client> {
  configureTransport(config);
  let account = await store.getAcmeAccount(config.directoryUrl);
  if (account === null) {
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    account = await store.initAcmeAccount(config.directoryUrl, secretBox.seal(key.toString()));
  }
  const backoff = opts.backoff ?? { attempts: 20, minMs: 1_000, maxMs: 10_000 };
  const client = new acme.Client({
    directoryUrl: config.directoryUrl,
    accountKey: secretBox.open(account.accountKeySealed),
    accountUrl: account.accountUrl ?? undefined,
    externalAccountBinding: config.eab ?? undefined,
    backoffAttempts: backoff.attempts,
    backoffMin: backoff.minMs,
    backoffMax: backoff.maxMs,
  });
  if (account.accountUrl === null) {
    await client.createAccount({ termsOfServiceAgreed: true, contact: config.email === undefined ? undefined : [`mailto:${config.email}`] });
    await store.setAcmeAccountUrl(config.directoryUrl, client.getAccountUrl());
  }
  return client;
}
