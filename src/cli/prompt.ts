// Passphrases: read hidden from the terminal, or from a file; never from the command line, where
// `ps` and shell history would show them.
// Tested in test/cli/pki.test.ts (`--passphrase-file`; the terminal prompt has no test).
import { readFileSync } from 'node:fs';

export class PromptError extends Error {
  readonly code = 'ERR_PROMPT';
}

/** Reads one line from the terminal without echoing it. */
export function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new PromptError('no terminal to ask for the passphrase: use --passphrase-file FILE'));
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = stdin.isRaw;
    // Raw (no echo) before the prompt shows, so nothing typed after it is echoed.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.setEncoding('utf8');
    stdin.resume();
    const finish = (err?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new PromptError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The first line of a file, without its line ending (as `openssl -passin file:` reads it). */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PromptError(`cannot read the passphrase file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const line = text.split(/\r?\n/)[0];
  if (!line) throw new PromptError(`the passphrase file ${file} is empty`);
  return line;
}

/** A passphrase from --passphrase-file, else from the terminal (twice when `confirm`). */
export async function getPassphrase(opts: { file?: string; prompt: string; confirm?: boolean }): Promise<string> {
  if (opts.file) return readPassphraseFile(opts.file);
  const first = await readHidden(opts.prompt);
  if (!first) throw new PromptError('empty passphrase');
  if (opts.confirm) {
    const again = await readHidden('Verifying - ' + opts.prompt);
    if (again !== first) throw new PromptError('the passphrases do not match');
  }
  return first;
}
