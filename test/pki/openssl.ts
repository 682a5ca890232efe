// Running the openssl binary on files in a temp dir: the tests check that our PEM output is what
// OpenSSL (and so nginx, Apache, HAProxy) reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../helpers/peers.ts';

export const OPENSSL_MISSING = findBinary('openssl') ? undefined : 'openssl not installed: apt-get install openssl';

export interface OpensslRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function openssl(args: string[], cwd?: string): OpensslRun {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A temp dir with these files; returns it and a cleanup. */
export function tempFiles(files: Record<string, string>): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'originpull-pki-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
