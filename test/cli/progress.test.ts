// Progress output: a redrawn spinner line on a terminal, plain lines otherwise (CI logs, pipes).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { startProgress, withProgress } from '../../src/cli/progress.ts';

function stream(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  (w as { isTTY: boolean }).isTTY = isTTY;
  return { out: w, text: () => text };
}

describe('progress', () => {
  it('not a terminal: one line to start, a line per changed detail, one to end', () => {
    const s = stream(false);
    const p = startProgress('Waiting for active', s.out);
    p.update('certificate pending_deployment');
    p.update('certificate pending_deployment');
    p.update('certificate active');
    p.done('active');
    p.done('again');
    const lines = s.text().trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[0], 'Waiting for active…');
    assert.match(lines[1], /^Waiting for active: certificate pending_deployment \(\d+\.\d s\)$/);
    assert.match(lines[3], /^Waiting for active: active \(\d+\.\d s\)$/);
    assert.doesNotMatch(s.text(), /\r|\x1b/);
  });

  it('a terminal: redraws one line with a spinner and the elapsed time, then a final mark', async () => {
    const s = stream(true);
    const p = startProgress('Generating RSA-4096 key', s.out);
    await new Promise((r) => setTimeout(r, 250));
    p.done();
    const text = s.text();
    assert.ok(text.split('\r\x1b[2K').length >= 3, 'redrawn several times');
    assert.match(text, /Generating RSA-4096 key \(0\.\d s\)/);
    assert.match(text, /\r\x1b\[2K✔ Generating RSA-4096 key \(\d+\.\d s\)\n$/);
  });

  it('withProgress ends with the failure and rethrows', async () => {
    const s = stream(false);
    await assert.rejects(
      withProgress(
        'Uploading',
        async () => {
          throw new Error('boom');
        },
        s.out,
      ),
      /boom/,
    );
    assert.match(s.text(), /Uploading: failed: boom/);
  });
});
