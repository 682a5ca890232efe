// Ray ids: 16 hex digits + '-' + the node tag, like Cloudflare's CF-Ray. A random per-process
// prefix plus a counter is unique per node without a random draw per request.
// Tested in test/edge/forwarding.test.ts.
import { randomBytes } from 'node:crypto';

export class RayIds {
  readonly #prefix: string;
  readonly #suffix: string;
  #counter = 0;

  constructor(nodeTag: string) {
    this.#prefix = randomBytes(4).toString('hex');
    this.#suffix = '-' + (nodeTag.replace(/[^A-Za-z0-9]/g, '').slice(0, 12).toUpperCase() || 'EDGE');
  }

  next(): string {
    this.#counter = (this.#counter + 1) >>> 0;
    return this.#prefix + this.#counter.toString(16).padStart(8, '0') + this.#suffix;
  }
}
