// `originpull edge`: an edge node alone (scale-out): follows the store, serves visitors, reports
// the config version it applied, and keeps a copy of it in <data-dir>/edge-snapshot/ to serve
// when it starts while the store is unreachable. `--workers 0` runs it in this process.
// Tested in test/scale/edges.test.ts and test/edge/edge-certificates.test.ts (its module graph).
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { LastKnownConfigFile, lastKnownConfigPath, openEdgeStore, runEdgeWorkers, startEdgeNode } from '../sync/index.ts';
import { createLogger } from './logger.ts';
import { addNodeOptions, configFromOptions } from './options.ts';
import { onReloadSignal } from './reload.ts';
import { onShutdown } from './shutdown.ts';
import { TAKE_OVER_HELP, assertAddressesFree, becomeCurrent, pidFilePath } from './take-over.ts';

async function runEdge(config: Readonly<Config>, nodeName: string | undefined, takeOver: boolean, reread: () => Readonly<Config>): Promise<void> {
  const logger = createLogger(config.logLevel, 'edge');
  // Named by --node-name (or `edge`), not by the pid, so a restarted node finds its copy.
  const snapshotName = nodeName ?? 'edge';
  if (!takeOver) {
    await assertAddressesFree([
      { what: 'HTTP listener', at: config.httpListen },
      { what: 'HTTPS listener', at: config.httpsListen },
      { what: 'metrics listener', at: config.metricsListen },
    ]);
  }
  const pidFile = pidFilePath(config.dataDir, nodeName === undefined ? 'edge' : `edge-${nodeName}`);
  if (config.workers === 0) {
    const lastKnown = new LastKnownConfigFile(lastKnownConfigPath(config.dataDir, snapshotName));
    const { store, secretBox, secretKeyVerified } = await openEdgeStore(config, logger, { lastKnown });
    const node = await startEdgeNode({
      store,
      secretBox,
      config,
      logger,
      nodeName,
      lastKnown,
      secretKeyVerified,
      onFatal: (err) => {
        // The store answers but belongs to another installation (secret key mismatch).
        process.stderr.write(`originpull: ${err.message}\n`);
        process.exit(1);
      },
    });
    const removePidFile = becomeCurrent(pidFile, takeOver, logger);
    onReloadSignal(logger, config, reread);
    onShutdown(logger, async () => {
      removePidFile();
      await node.close();
      await store.close();
    });
    return;
  }
  const workers = await runEdgeWorkers(config, config.workers, { logger, nodeName, snapshotName });
  logger.info({ workers: config.workers, http: config.httpListen, https: config.httpsListen, admin: workers.adminAddress }, 'edge listening');
  const removePidFile = becomeCurrent(pidFile, takeOver, logger);
  onReloadSignal(logger, config, reread);
  onShutdown(logger, () => {
    removePidFile();
    return workers.close();
  });
}

export function registerEdgeCommand(program: Command): void {
  addNodeOptions(program.command('edge'), ['store', 'edge', 'workers'])
    .description('run an edge node alone: proxies visitors to origins with AOP client certificates, following the store')
    .option('--node-name <name>', 'name this node reports to the store (default: <hostname>-<pid>)')
    .option('--take-over', TAKE_OVER_HELP)
    .addHelpText(
      'after',
      '\nEvery node of an installation needs the same secret key (<data-dir>/secret.key or ORIGINPULL_SECRET_KEY).\n' +
        '\nExamples:\n' +
        '  $ originpull edge --store postgres://originpull@db/originpull --https-listen 0.0.0.0:443 --http-listen 0.0.0.0:80\n' +
        '  $ originpull edge --data-dir ./data --workers 0 --metrics-listen 127.0.0.1:9145\n',
    )
    .action(async (opts: Record<string, unknown>) => {
      const { nodeName, takeOver, ...rest } = opts;
      await runEdge(configFromOptions(rest), nodeName as string | undefined, takeOver === true, () => configFromOptions(rest));
    });
}
