// Real servers as test peers: nginx, Apache, HAProxy and Caddy from Debian, each started as a
// non-daemon child process on a free 127.0.0.1 port, with its config, TLS files, pid file and logs
// in a temp directory, and stopped (SIGTERM, then SIGKILL) when the test is done.
//
// Generic: a PeerDefinition says how to build the whole config file for a port and directory and
// how to run the binary; the presets below wrap a server-level snippet (a `server {}` block, a
// `<VirtualHost>`, a frontend, a Caddy site) in the main configuration each server needs.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PeerContext {
  /** The temp directory holding config, TLS files, pid file and logs. */
  dir: string;
  /** The 127.0.0.1 port the peer must listen on. */
  port: number;
  /** Absolute path of a file in `dir`. */
  path(name: string): string;
}

export interface PeerDefinition {
  /** For messages: "nginx". */
  name: string;
  /** Command name (looked up in PATH, /usr/sbin, /sbin) or absolute path. */
  binary: string;
  /** What to install when the binary is missing: "apt-get install nginx". */
  install: string;
  /** Name of the config file inside the temp dir. */
  configFile: string;
  /** The whole configuration text for this port and directory. */
  config(ctx: PeerContext): string;
  /** Arguments, given the config file's absolute path. */
  args(ctx: PeerContext, configPath: string): string[];
  /** Extra environment (HOME, XDG dirs…). */
  env?(ctx: PeerContext): NodeJS.ProcessEnv;
  /** Files written into the temp dir before start: name → content. Keys get mode 0600. */
  files?: Record<string, string>;
  /** Readiness cap; 10 s by default. */
  readyTimeoutMs?: number;
}

export interface RunningPeer {
  name: string;
  port: number;
  dir: string;
  pid: number;
  path(name: string): string;
  /** The peer's stdout and stderr so far. */
  output(): string;
  /** A file from the temp dir ('' if it does not exist yet). */
  readFile(name: string): string;
  /** Polls a file until `test` passes on its content; returns that content. */
  waitForFile(name: string, test: (content: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, SIGKILL after 5 s; removes the temp dir (unless ORIGINPULL_KEEP_PEER_DIRS is set). */
  stop(): Promise<void>;
}

const SEARCH_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of an executable, or undefined when it is not installed. */
export function findBinary(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : [...(process.env.PATH ?? '').split(delimiter), ...SEARCH_DIRS].filter(Boolean).map((d) => join(d, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A message for t.skip() when the peer's binary is missing, else undefined. */
export function missingPeer(def: Pick<PeerDefinition, 'name' | 'binary' | 'install'>): string | undefined {
  return findBinary(def.binary) ? undefined : `${def.name} not installed: ${def.install}`;
}

/** A port that was free a moment ago (the peer may still lose a race; startPeer retries). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class PeerStartError extends Error {
  retryable = false;
}

async function startOnce(def: PeerDefinition, binary: string, port: number): Promise<RunningPeer> {
  const dir = mkdtempSync(join(tmpdir(), `originpull-${def.name}-`));
  // Worker processes of servers started as root run as nobody: let them traverse the directory.
  chmodSync(dir, 0o755);
  const ctx: PeerContext = { dir, port, path: (name) => join(dir, name) };
  for (const [name, content] of Object.entries(def.files ?? {})) {
    writeFileSync(ctx.path(name), content, { mode: /\.key$|key\.pem$/.test(name) ? 0o600 : 0o644 });
  }
  const configPath = ctx.path(def.configFile);
  writeFileSync(configPath, def.config(ctx));

  let output = '';
  const child: ChildProcess = spawn(binary, def.args(ctx, configPath), {
    cwd: dir,
    env: { ...process.env, ...def.env?.(ctx) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exited = { code: -1, signal: null };
      resolve();
    });
  });

  const readFile = (name: string) => {
    try {
      return readFileSync(ctx.path(name), 'utf8');
    } catch {
      return '';
    }
  };

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    }
    if (!process.env.ORIGINPULL_KEEP_PEER_DIRS) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (def.readyTimeoutMs ?? 10_000);
  while (!(await canConnect(port, '127.0.0.1'))) {
    if (exited || Date.now() > deadline) {
      const why = exited ? `exited (code ${exited.code}, signal ${exited.signal})` : `not listening on 127.0.0.1:${port} after ${def.readyTimeoutMs ?? 10_000} ms`;
      const logs = ['error.log', 'error_log'].map(readFile).filter(Boolean).join('\n');
      await stop();
      const err = new PeerStartError(`${def.name} ${why}\n--- output ---\n${output}${logs ? `\n--- error log ---\n${logs}` : ''}\n--- config ---\n${def.config(ctx)}`);
      err.retryable = /address already in use|cannot bind|could not bind|make_sock/i.test(output + logs);
      throw err;
    }
    await sleep(50);
  }

  return {
    name: def.name,
    port,
    dir,
    pid: child.pid!,
    path: ctx.path,
    output: () => output,
    readFile,
    async waitForFile(name, test, timeoutMs = 3_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const content = readFile(name);
        if (test(content)) return content;
        if (Date.now() > until) throw new Error(`${def.name}: ${name} did not show what was expected within ${timeoutMs} ms; it holds:\n${content}`);
        await sleep(50);
      }
    },
    stop,
  };
}

/** Starts the peer on a free port; retries on another port if it lost a bind race. */
export async function startPeer(def: PeerDefinition): Promise<RunningPeer> {
  const binary = findBinary(def.binary);
  if (!binary) throw new Error(`${def.name} not installed: ${def.install}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(def, binary, await freePort());
    } catch (err) {
      if (!(err instanceof PeerStartError && err.retryable && attempt < 3)) throw err;
    }
  }
}

// ---- presets: a server-level snippet wrapped in the main configuration each server needs ----

export interface SnippetPeerOptions {
  /** Files for the temp dir (certificates, keys, CA). */
  files?: Record<string, string>;
  /** The server-level configuration; it must listen on 127.0.0.1:ctx.port. */
  snippet(ctx: PeerContext): string;
}

/** nginx: `snippet` goes inside http { }. Run with -p DIR -c nginx.conf -g 'daemon off;'. */
export function nginxPeer(opts: SnippetPeerOptions): PeerDefinition {
  return {
    name: 'nginx',
    binary: 'nginx',
    install: 'apt-get install nginx',
    configFile: 'nginx.conf',
    files: opts.files,
    config: (ctx) => `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${ctx.path('nginx.pid')};
error_log ${ctx.path('error.log')} warn;
events { worker_connections 64; }
http {
    access_log ${ctx.path('access.log')};
    client_body_temp_path ${ctx.path('client_body')};
    proxy_temp_path ${ctx.path('proxy')};
    fastcgi_temp_path ${ctx.path('fastcgi')};
    uwsgi_temp_path ${ctx.path('uwsgi')};
    scgi_temp_path ${ctx.path('scgi')};
${opts.snippet(ctx)}
}
`,
    args: (ctx, conf) => ['-p', ctx.dir + '/', '-c', conf, '-g', 'daemon off;'],
  };
}

const APACHE_MODULES = '/usr/lib/apache2/modules';

/** Apache: `snippet` (with its own Listen and VirtualHost) after a minimal server config. */
export function apachePeer(opts: SnippetPeerOptions & { modules?: string[] }): PeerDefinition {
  const modules = ['mpm_event', 'authz_core', 'ssl', 'socache_shmcb', 'headers', 'proxy', 'proxy_http', ...(opts.modules ?? [])];
  return {
    name: 'apache2',
    binary: 'apache2',
    install: 'apt-get install apache2',
    configFile: 'httpd.conf',
    files: opts.files,
    config: (ctx) => `ServerRoot "${ctx.dir}"
ServerName localhost
PidFile "${ctx.path('apache2.pid')}"
DefaultRuntimeDir "${ctx.dir}"
Mutex file:${ctx.dir} default
ErrorLog "${ctx.path('error.log')}"
LogLevel warn
${modules.map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`).join('\n')}
${process.getuid?.() === 0 ? 'User nobody\nGroup nogroup\n' : ''}StartServers 1
ServerLimit 1
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 8
MaxRequestWorkers 8
SSLSessionCache "shmcb:${ctx.path('ssl_scache')}(51200)"
${opts.snippet(ctx)}
`,
    args: (ctx, conf) => ['-d', ctx.dir, '-f', conf, '-DFOREGROUND'],
    // apache2 reads these through envvars only when started by apachectl; set them for the snippet.
    env: (ctx) => ({ APACHE_LOG_DIR: ctx.dir, APACHE_RUN_DIR: ctx.dir, APACHE_LOCK_DIR: ctx.dir, APACHE_PID_FILE: ctx.path('apache2.pid') }),
  };
}

/** HAProxy: `snippet` (frontends/backends) after global and defaults; logs raw lines to stdout. */
export function haproxyPeer(opts: SnippetPeerOptions): PeerDefinition {
  return {
    name: 'haproxy',
    binary: 'haproxy',
    install: 'apt-get install haproxy',
    configFile: 'haproxy.cfg',
    files: opts.files,
    config: (ctx) => `global
    log stdout format raw local0
    pidfile ${ctx.path('haproxy.pid')}
    nbthread 1

defaults
    mode http
    log global
    timeout connect 5s
    timeout client 10s
    timeout server 10s

${opts.snippet(ctx)}
`,
    args: (_ctx, conf) => ['-db', '-f', conf],
  };
}

/**
 * Caddy: global options (admin off, no automatic HTTPS) then `snippet` (a site block). A snippet that
 * carries a global options block of its own (a line `{` … `}`) has those options merged into the
 * peer's, as a user adds them to the one block a Caddyfile allows; its `auto_https` replaces the peer's.
 */
export function caddyPeer(opts: SnippetPeerOptions): PeerDefinition {
  const split = (text: string) => {
    const m = /^\{\n([\s\S]*?)^\}\n/m.exec(text);
    return m ? { options: m[1], rest: text.slice(0, m.index) + text.slice(m.index + m[0].length) } : { options: '', rest: text };
  };
  return {
    name: 'caddy',
    binary: 'caddy',
    install: 'apt-get install caddy',
    configFile: 'Caddyfile',
    files: opts.files,
    config: (ctx) => {
      const { options, rest } = split(opts.snippet(ctx));
      return `{
\tadmin off
${/^\s*auto_https /m.test(options) ? '' : '\tauto_https off\n'}\tstorage file_system ${ctx.path('storage')}
\tlog {
\t\toutput file ${ctx.path('error.log')}
\t\tlevel WARN
\t}
${options}}

${rest}
`;
    },
    args: (_ctx, conf) => ['run', '--config', conf, '--adapter', 'caddyfile'],
    env: (ctx) => ({ HOME: ctx.dir, XDG_DATA_HOME: ctx.path('data'), XDG_CONFIG_HOME: ctx.path('config') }),
  };
}

/** The TCP ports a process listens on (from /proc: its socket inodes in the listening table). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address HEX:PORT, f[3] state (0A = LISTEN), f[9] inode
      if (f[3] === '0A' && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** True when `path` exists: for tests that look for an optional module file. */
export function fileExists(path: string): boolean {
  return existsSync(path);
}
