// One HTTPS request with `openssl s_client`, saving or offering a TLS session, answering whether
// the handshake resumed ("Reused") or was full ("New"), as s_client prints it.
import { spawn } from 'node:child_process';

export interface SClientOptions {
  /** Offer the session in this file (-sess_in). */
  sessIn?: string;
  /** Save the session the server gives to this file (-sess_out). */
  sessOut?: string;
  /** More s_client flags, e.g. ['-tls1_2', '-no_ticket']. */
  extra?: string[];
  timeoutMs?: number;
}

export interface SClientResult {
  handshake: 'Reused' | 'New';
  protocol: string;
  output: string;
}

export async function sClient(port: number, o: SClientOptions = {}): Promise<SClientResult> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof'];
  if (o.sessIn !== undefined) args.push('-sess_in', o.sessIn);
  if (o.sessOut !== undefined) args.push('-sess_out', o.sessOut);
  args.push(...(o.extra ?? []));
  const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  // Connection: close: the edge answers and closes, after s_client has read the session tickets.
  child.stdin.end('GET / HTTP/1.1\r\nHost: tickets.invalid\r\nConnection: close\r\n\r\n');
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  const m = /^(Reused|New), (\S+), Cipher/m.exec(output);
  if (m === null) throw new Error(`openssl s_client printed no handshake line:\n${output}`);
  return { handshake: m[1] as 'Reused' | 'New', protocol: m[2]!, output };
}
