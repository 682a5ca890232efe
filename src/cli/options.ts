// Flags shared by the node commands (serve, api, edge, migrate). Each flag maps onto the config
// key of the same name, so `--api-listen` ends up as `flags.apiListen` in loadConfig.
// Tested in test/e2e/serve.test.ts and test/cli/reload.test.ts.
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';

export type NodeOption = 'store' | 'api' | 'edge' | 'workers';

export function addNodeOptions(cmd: Command, which: NodeOption[]): Command {
  cmd
    .option('--config <file>', 'JSON config file (env ORIGINPULL_CONFIG)')
    .option('--data-dir <dir>', 'data directory: SQLite file, secret key, admin token (env ORIGINPULL_DATA_DIR)', undefined)
    .option('--log-level <level>', 'trace|debug|info|warn|error (env ORIGINPULL_LOG_LEVEL)');
  if (which.includes('store')) cmd.option('--store <url>', 'sqlite:<file> or postgres://… (env ORIGINPULL_STORE; default: SQLite in the data dir)');
  if (which.includes('api')) cmd.option('--api-listen <host:port>', 'API and dashboard listener (env ORIGINPULL_API_LISTEN; default 127.0.0.1:4000)');
  if (which.includes('edge')) {
    cmd
      .option('--http-listen <host:port>', 'edge HTTP listener (env ORIGINPULL_HTTP_LISTEN; default 127.0.0.1:8080)')
      .option('--https-listen <host:port>', 'edge HTTPS listener (env ORIGINPULL_HTTPS_LISTEN; default 127.0.0.1:8443)')
      .option('--metrics-listen <host:port>', 'edge /metrics and /healthz (env ORIGINPULL_METRICS_LISTEN; default 127.0.0.1:9145)')
      .option('--origin-ca-file <file>', 'extra CA bundle trusted for origin certificates in strict mode')
      .option('--visitor-handshake-timeout-ms <ms>', 'cut a visitor TLS handshake not done within this long (env ORIGINPULL_VISITOR_HANDSHAKE_TIMEOUT_MS; default 10000)');
  }
  if (which.includes('api')) {
    cmd
      .option('--acme-directory <url>', 'ACME directory for Universal SSL: a URL, letsencrypt or letsencrypt-staging (env ORIGINPULL_ACME_DIRECTORY; default none: no CA is contacted)')
      .option('--acme-email <address>', 'ACME account contact (env ORIGINPULL_ACME_EMAIL)')
      .option('--acme-ca-file <file>', 'CA bundle trusted for the ACME directory (env ORIGINPULL_ACME_CA_FILE)');
  }
  if (which.includes('workers')) cmd.option('--workers <n>', 'edge worker processes (default: one per core; 0 = in-process)');
  return cmd;
}

export function configFromOptions(opts: Record<string, unknown>): Readonly<Config> {
  const flags: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(opts)) {
    if (key !== 'config' && value !== undefined) flags[key] = String(value);
  }
  return loadConfig({ flags, file: opts.config as string | undefined });
}
