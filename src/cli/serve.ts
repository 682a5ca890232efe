// `originpull serve`: the all-in-one node — API + dashboard, and the edge (in-process or as
// worker processes), on the embedded SQLite store by default.
// `originpull api`: the API alone (scale-out). `originpull migrate`, `originpull ca-pem`.
// Tested in test/e2e/serve.test.ts, test/cli/reload.test.ts and test/e2e/take-over.test.ts.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { buildApiServer } from '../api/index.ts';
import { openStore } from '../store/index.ts';
import { startNotifier } from '../notify/index.ts';
import { startAcmeOrderer } from '../acme/index.ts';
import { LastKnownConfigFile, lastKnownConfigPath, runEdgeWorkers, startEdgeNode, startRegistryJanitor, startTicketRotator } from '../sync/index.ts';
import { addNodeOptions, configFromOptions } from './options.ts';
import { createLogger } from './logger.ts';
import { initializeInstallation, openNodeStore } from './control-plane.ts';
import { onReloadSignal } from './reload.ts';
import { onShutdown } from './shutdown.ts';
import { TAKE_OVER_HELP, assertAddressesFree, becomeCurrent, pidFilePath, type NamedAddress } from './take-over.ts';

async function startApi(config: Config, withEdge: boolean, takeOver: boolean, reread: () => Config): Promise<void> {
  const logger = createLogger(config.logLevel, withEdge ? 'serve' : 'api');
  if (!takeOver) {
    const addresses: NamedAddress[] = [{ what: 'API listener', at: config.apiListen }];
    if (withEdge) addresses.push({ what: 'HTTP listener', at: config.httpListen }, { what: 'HTTPS listener', at: config.httpsListen }, { what: 'metrics listener', at: config.metricsListen });
    await assertAddressesFree(addresses);
  }
  const cp = await openNodeStore(config, { migrate: true });
  await initializeInstallation(cp, config, logger);
  const api = await buildApiServer({ store: cp.store, secretBox: cp.secretBox, config, logger: logger.child({ part: 'api' }) });
  // SO_REUSEPORT, so that a process started with --take-over can listen beside this one (take-over.ts).
  const listenAt = { host: config.apiListen.host, port: config.apiListen.port, reusePort: config.apiListen.port !== 0 };
  const address = await api.listen(listenAt);
  logger.info({ address, store: cp.store.kind }, 'API listening (prefix /client/v4, dashboard at /)');

  // Purges certificates every live edge dropped and forgets long-gone edges; one API node at a time.
  const janitor = startRegistryJanitor({ store: cp.store, config, logger: logger.child({ part: 'registry' }) });
  // Expiry alerts: every API node runs a notifier; deliveries are claimed with leases, so exactly once.
  const notifier = startNotifier({ store: cp.store, secretBox: cp.secretBox, logger: logger.child({ part: 'notify' }) });
  // Universal SSL: every API node runs an orderer; one at a time works (store.runExclusive). With no
  // ACME directory configured it only keeps the packs listed, and contacts no CA.
  const orderer = startAcmeOrderer({ store: cp.store, secretBox: cp.secretBox, config, logger: logger.child({ part: 'acme' }) });
  // Visitor session-ticket keys: every API node checks; one rotates (compare-and-set in the store).
  const rotator = startTicketRotator({ store: cp.store, secretBox: cp.secretBox, rotateEveryMs: config.ticketRotationMs, logger: logger.child({ part: 'tickets' }) });
  // The first ring exists before the edge starts, so it never serves on the derived fallback key.
  await rotator.runOnce();
  const closers: (() => Promise<void>)[] = [() => orderer.close(), () => janitor.close(), () => notifier.close(), () => rotator.close()];
  if (withEdge) {
    if (config.workers === 0) {
      const lastKnown = new LastKnownConfigFile(lastKnownConfigPath(config.dataDir, 'serve'));
      const node = await startEdgeNode({ store: cp.store, secretBox: cp.secretBox, config, logger: logger.child({ part: 'edge' }), lastKnown });
      closers.push(() => node.close());
    } else {
      const workers = await runEdgeWorkers(config, config.workers, { snapshotName: 'serve' });
      closers.push(() => workers.close());
    }
    logger.info({ http: config.httpListen, https: config.httpsListen, workers: config.workers }, 'edge started');
  }
  const removePidFile = becomeCurrent(pidFilePath(config.dataDir, withEdge ? 'serve' : 'api'), takeOver, logger);
  onReloadSignal(logger, config, reread);
  onShutdown(logger, async () => {
    removePidFile();
    await api.close();
    for (const close of closers) await close();
    await cp.store.close();
  });
}

export function registerServeCommands(program: Command): void {
  addNodeOptions(program.command('serve'), ['store', 'api', 'edge', 'workers'])
    .description('run everything on one machine: API, dashboard and edge (embedded SQLite store by default)')
    .addHelpText('after', '\nExamples:\n  $ originpull serve\n  $ originpull serve --data-dir /var/lib/originpull --api-listen 0.0.0.0:4000 --https-listen 0.0.0.0:443\n')
    .option('--take-over', TAKE_OVER_HELP)
    .action(async ({ takeOver, ...opts }) => startApi(configFromOptions(opts), true, takeOver === true, () => configFromOptions(opts)));

  addNodeOptions(program.command('api'), ['store', 'api'])
    .description('run the API and dashboard only (edges run separately with `originpull edge`)')
    .addHelpText('after', '\nExample:\n  $ originpull api --store postgres://originpull@db/originpull --api-listen 0.0.0.0:4000\n')
    .option('--take-over', TAKE_OVER_HELP)
    .action(async ({ takeOver, ...opts }) => startApi(configFromOptions(opts), false, takeOver === true, () => configFromOptions(opts)));

  addNodeOptions(program.command('migrate'), ['store'])
    .description('apply database migrations and exit (serve and api also apply them at start)')
    .action(async (opts) => {
      const config = configFromOptions(opts);
      // Schema only: no secret key is read or recorded, so it can run from any machine.
      const store = await openStore(config.store);
      try {
        await store.migrate();
        process.stdout.write(`migrations applied (${store.kind}); config version ${await store.currentVersion()}\n`);
      } finally {
        await store.close();
      }
    });

  addNodeOptions(program.command('ca-pem'), ['store'])
    .description("print this installation's origin-pull CA certificate (install it at your origins for global AOP)")
    .addHelpText('after', '\nExample:\n  $ originpull ca-pem > /etc/nginx/certs/originpull-origin-pull-ca.pem\n')
    .action(async (opts) => {
      const config = configFromOptions(opts);
      const cp = await openNodeStore(config, { migrate: true });
      const logger = createLogger('warn', 'ca-pem');
      await initializeInstallation(cp, config, logger);
      const pki = await cp.store.getPki();
      process.stdout.write(pki!.originPullCaPem);
      await cp.store.close();
    });
}
