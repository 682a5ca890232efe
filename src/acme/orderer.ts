// The ACME orderer, run by API nodes: keeps every zone's universal certificate packs in line with
// its proxied records (Universal SSL), then works through the packs that are due — new ones,
// failed ones whose backoff ran out, issued ones at their renewal time — one order at a time
// across the installation (store.runExclusive: a PostgreSQL advisory lock, or this process on
// SQLite). An order stores its challenges (so every edge answers them through its snapshot),
// waits until every live edge applied them, lets the CA validate, and stores the certificate;
// CA errors and rate limits are written on the pack and retried with backoff.
// Tested in test/acme/universal-ssl.test.ts (against Pebble).
import type { Logger } from 'pino';
import acme from 'acme-client';
import type { Config } from '../config.ts';
import {
  ACME_NOT_CONFIGURED,
  edgesBehind,
  liveEdges,
  packDue,
  planUniversalPacks,
  renewalTime,
  retryDelayMs,
  validateEdgeCertificateUpload,
  type CertificatePack,
} from '../domain/index.ts';
import { NotFoundError, type NewAcmeChallenge, type SecretBox, type Store } from '../store/index.ts';
import { acmeClient, type AcmeClientOptions } from './acme-account.ts';

export const ACME_ORDERER_JOB = 'acme-orderer';
const CHANGE_DEBOUNCE_MS = 200;

export interface AcmeOrdererOptions {
  store: Store;
  secretBox: SecretBox;
  config: Readonly<Config>;
  logger?: Logger;
  /** Between rounds; a committed change also starts one soon. Default 10 s. */
  intervalMs?: number;
  /** Backoff after failures (see retryDelayMs). */
  retry?: { minMs: number; maxMs: number };
  /** How long to wait for every live edge to apply a challenge. Default the deployment deadline. */
  edgeWaitMs?: number;
  client?: AcmeClientOptions;
  now?: () => number;
}

export interface OrdererRound {
  ran: boolean;
  created: number;
  removed: number;
  ordered: number;
  failed: number;
}

export interface AcmeOrderer {
  /** One round now (what the timer runs); concurrent calls share the running round. */
  runOnce(): Promise<OrdererRound>;
  close(): Promise<void>;
}

/** The CA refused a validation: the pack shows validation_timed_out (Cloudflare's name). */
class ValidationFailed extends Error {}

export function startAcmeOrderer(o: AcmeOrdererOptions): AcmeOrderer {
  const now = o.now ?? Date.now;
  const intervalMs = o.intervalMs ?? 10_000;
  const acmeConfig = o.config.acme;
  let client: acme.Client | null = null;
  let running: Promise<OrdererRound> | null = null;
  let again = false;
  let closed = false;

  // Three reads whatever the number of zones: it runs after every committed change.
  const reconcile = async (): Promise<{ created: number; removed: number }> => {
    let created = 0;
    let removed = 0;
    const [off, names, live] = await Promise.all([o.store.listUniversalSslOff(), o.store.listProxiedNames(), o.store.listLiveCertificatePacks()]);
    const packsByZone = new Map<string, CertificatePack[]>();
    for (const pack of live) {
      let list = packsByZone.get(pack.zoneId);
      if (list === undefined) packsByZone.set(pack.zoneId, (list = []));
      list.push(pack);
    }
    for (const zoneId of new Set([...names.keys(), ...packsByZone.keys()])) {
      const plan = planUniversalPacks(!off.has(zoneId), names.get(zoneId) ?? [], packsByZone.get(zoneId) ?? []);
      for (const host of plan.create) {
        try {
          await o.store.insertCertificatePack({
            zoneId,
            type: 'universal',
            hosts: [host],
            validationMethod: 'http',
            validityDays: 90,
            certificateAuthority: 'lets_encrypt',
            errorText: acmeConfig === null ? ACME_NOT_CONFIGURED : null,
          });
          created++;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err; // the zone went meanwhile
        }
      }
      for (const pack of plan.remove) {
        await o.store.requestCertificatePackDeletion(zoneId, pack.id);
        removed++;
      }
    }
    return { created, removed };
  };

  const waitForEdges = async (version: number): Promise<void> => {
    const deadline = now() + (o.edgeWaitMs ?? o.config.deployment.deadlineMs);
    for (;;) {
      const live = liveEdges(await o.store.listEdges(), now(), o.config.deployment.heartbeatLapseMs);
      if (live.length === 0) throw new Error('no live edge to answer the ACME challenge');
      const behind = edgesBehind(live, version);
      if (behind.length === 0) return;
      if (now() > deadline) throw new Error(`edges ${behind.map((e) => e.name).join(', ')} did not apply the challenge in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const order = async (pack: CertificatePack): Promise<void> => {
    client ??= await acmeClient(o.store, o.secretBox, acmeConfig!, o.client);
    const c = client;
    await o.store.updateCertificatePackOrder(pack.id, { stage: 'initializing' });
    const acmeOrder = await c.createOrder({ identifiers: pack.hosts.map((value) => ({ type: 'dns', value })) });
    const authorizations = await c.getAuthorizations(acmeOrder);
    const type = pack.validationMethod === 'tls-alpn' ? 'tls-alpn-01' : 'http-01';
    const pending: { challenge: (typeof authorizations)[number]['challenges'][number]; authz: (typeof authorizations)[number]; host: string; token: string }[] = [];
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      const host = authz.identifier.value;
      const challenge = authz.challenges.find((ch) => ch.type === type);
      if (challenge === undefined) throw new ValidationFailed(`${host}: the CA offers no ${type} challenge`);
      pending.push({ challenge, authz, host, token: challenge.token });
    }
    if (pending.length > 0) {
      const challenges: NewAcmeChallenge[] = [];
      for (const p of pending) {
        const keyAuthorization = await c.getChallengeKeyAuthorization(p.challenge);
        if (type === 'http-01') {
          challenges.push({ token: p.token, hostname: p.host, type, keyAuthorization });
        } else {
          // The challenge certificate carries the key authorization's digest (acmeIdentifier, RFC 8737).
          const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(p.authz, keyAuthorization, await acme.crypto.createPrivateEcdsaKey('P-256'));
          challenges.push({
            token: p.token,
            hostname: p.host,
            type,
            keyAuthorization,
            certificatePem: alpnCert.toString(),
            privateKeySealed: o.secretBox.seal(alpnKey.toString()),
          });
        }
      }
      const version = await o.store.putAcmeChallenges(pack.id, challenges);
      await o.store.updateCertificatePackOrder(pack.id, { stage: 'pending_validation' });
      await waitForEdges(version);
      for (const p of pending) await c.completeChallenge(p.challenge);
      for (const p of pending) {
        try {
          await c.waitForValidStatus(p.challenge);
          await o.store.setAcmeChallengeStatus(p.token, 'valid');
        } catch (err) {
          await o.store.setAcmeChallengeStatus(p.token, 'invalid');
          throw new ValidationFailed(`${p.host}: ${(err as Error).message}`);
        }
      }
    }
    await o.store.updateCertificatePackOrder(pack.id, { stage: 'pending_issuance' });
    const [key, csr] = await acme.crypto.createCsr({ commonName: pack.hosts[0], altNames: pack.hosts }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const finalized = await c.finalizeOrder(acmeOrder, csr);
    const chain = await c.getCertificate(finalized);
    // Checked as an upload would be (chain order, key match, expiry, names of the zone).
    const zone = await o.store.getZone(pack.zoneId);
    if (zone === null) throw new NotFoundError(`zone ${pack.zoneId} not found`);
    const checked = validateEdgeCertificateUpload({ certificate: chain, privateKey: key.toString() }, zone.name, now());
    if (!checked.ok) throw new Error(`the CA's certificate is unusable: ${checked.error.message}`);
    const v = checked.value;
    await o.store.storeCertificatePackCertificate(pack.id, {
      certificatePem: v.certificatePem,
      privateKeySealed: o.secretBox.seal(v.privateKeyPem),
      issuer: v.issuer,
      serialNumber: v.serialNumber,
      signature: v.signature,
      fingerprintSha256: v.fingerprintSha256,
      notBefore: v.notBefore,
      expiresOn: v.expiresOn,
      renewAt: renewalTime(v.notBefore, v.expiresOn),
    });
  };

  const fail = async (pack: CertificatePack, err: Error): Promise<void> => {
    // Anything but a refused validation may be the account or the directory (a CA reset, an
    // account deactivated): the next attempt starts from the store's account again.
    if (!(err instanceof ValidationFailed)) client = null;
    const attempts = pack.attempts + 1;
    const text = err.message || String(err);
    // Rate limits and other CA errors alike: exponential backoff, the error shown on the pack.
    const delay = retryDelayMs(attempts, o.retry);
    try {
      await o.store.clearAcmeChallenges(pack.id);
      await o.store.updateCertificatePackOrder(pack.id, {
        stage: err instanceof ValidationFailed ? 'validation_failed' : 'issuance_failed',
        errorText: text,
        attempts,
        nextAttemptAt: now() + delay,
      });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
    o.logger?.warn({ pack: pack.id, hosts: pack.hosts, attempts, retryInMs: delay, error: text }, 'ACME order failed');
  };

  const round = async (): Promise<OrdererRound> => {
    const result = await o.store.runExclusive(ACME_ORDERER_JOB, async () => {
      const { created, removed } = await reconcile();
      let ordered = 0;
      let failed = 0;
      if (acmeConfig !== null) {
        for (const pack of await o.store.listLiveCertificatePacks()) {
          if (closed) break;
          if (!packDue(pack, now())) continue;
          try {
            await order(pack);
            ordered++;
            o.logger?.info({ pack: pack.id, hosts: pack.hosts }, 'ACME certificate issued');
          } catch (err) {
            if (err instanceof NotFoundError) continue; // deleted meanwhile
            failed++;
            await fail(pack, err as Error);
          }
        }
      }
      return { ran: true, created, removed, ordered, failed };
    });
    return result.ran ? result.value : { ran: false, created: 0, removed: 0, ordered: 0, failed: 0 };
  };

  const runOnce = (): Promise<OrdererRound> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = round().finally(() => {
      running = null;
      if (again && !closed) {
        again = false;
        schedule();
      }
    });
    return running;
  };

  const schedule = (): void => {
    runOnce().catch((err: unknown) => o.logger?.warn({ err }, 'ACME orderer round failed; retrying next round'));
  };

  const timer = setInterval(() => {
    if (!closed) schedule();
  }, intervalMs);
  timer.unref();
  // A committed change (a new record, an order…) starts a round soon rather than at the next tick;
  // a burst of changes starts one.
  let soon: NodeJS.Timeout | null = null;
  const unsubscribe = o.store.onChange(() => {
    if (closed || soon !== null) return;
    soon = setTimeout(() => {
      soon = null;
      if (!closed) schedule();
    }, CHANGE_DEBOUNCE_MS);
    soon.unref();
  });
  setImmediate(() => {
    if (!closed) schedule();
  });

  return {
    runOnce,
    async close() {
      closed = true;
      clearInterval(timer);
      if (soon !== null) clearTimeout(soon);
      unsubscribe();
      await running?.catch(() => {});
    },
  };
}
