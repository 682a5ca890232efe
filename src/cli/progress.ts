// Progress for long steps (RSA-4096 key generation, waiting for `active`), on stderr so stdout stays
// clean for output. A spinner with elapsed seconds on a terminal; plain lines otherwise (CI logs).

export interface Progress {
  /** New detail text (a terminal redraws; otherwise a line is printed when the text changes). */
  update(text: string): void;
  /** Ends with success. */
  done(text?: string): void;
  /** Ends with failure. */
  fail(text?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function startProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let detail = '';
  let ended = false;
  if (stream.isTTY) {
    let frame = 0;
    const draw = () => stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}${detail ? `: ${detail}` : ''} (${seconds(Date.now() - started)})`);
    draw();
    const timer = setInterval(draw, 100);
    const end = (mark: string, text?: string) => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      stream.write(`\r\x1b[2K${mark} ${label}${text ? `: ${text}` : ''} (${seconds(Date.now() - started)})\n`);
    };
    return {
      update: (text) => {
        detail = text;
      },
      done: (text) => end('✔', text),
      fail: (text) => end('✖', text),
    };
  }
  stream.write(`${label}…\n`);
  return {
    update: (text) => {
      if (text !== detail && !ended) stream.write(`${label}: ${text} (${seconds(Date.now() - started)})\n`);
      detail = text;
    },
    done: (text) => {
      if (ended) return;
      ended = true;
      stream.write(`${label}: ${text ?? 'done'} (${seconds(Date.now() - started)})\n`);
    },
    fail: (text) => {
      if (ended) return;
      ended = true;
      stream.write(`${label}: failed${text ? `: ${text}` : ''} (${seconds(Date.now() - started)})\n`);
    },
  };
}

/** Runs `work` with a progress indicator; the indicator ends with the outcome. */
export async function withProgress<T>(label: string, work: (p: Progress) => Promise<T>, stream?: NodeJS.WriteStream): Promise<T> {
  const p = startProgress(label, stream);
  try {
    const value = await work(p);
    p.done();
    return value;
  } catch (err) {
    p.fail((err as Error).message);
    throw err;
  }
}
