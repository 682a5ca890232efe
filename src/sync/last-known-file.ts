// Static stability: the input of the last applied snapshot (the store's ConfigData, private keys
// still sealed by the secret box) kept on the edge's local disk, so an edge started while the
// store is unreachable can serve what it served before. Written to a temp file and renamed over
// the old one, so a crash mid-write leaves the previous copy intact. Written in pieces: at 100,000
// hostnames the file is ~45 MB, and one JSON string of it plus its Buffer grew the edge's RSS by
// ~95 MB (pieces: ~40 MB less).
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_EDGE_SETTINGS, type ConfigData } from '../domain/index.ts';
import type { LastKnownConfig } from './edge-node.ts';

const FORMAT = 'originpull-edge-snapshot/1';
/**
 * Characters of JSON gathered before a write. Below V8's large-object size (128 KiB), so each
 * piece dies young: 256 Ki-character pieces left ~30 MB more RSS behind at 100,000 hostnames.
 */
const PIECE_CHARS = 64 * 1024;

interface SnapshotFile {
  format: typeof FORMAT;
  savedAt: number;
  version: number;
  config: ConfigData;
}

export class LastKnownConfigError extends Error {}

/** `<dataDir>/edge-snapshot/<name>.json`; the name is kept to file-safe characters. */
export function lastKnownConfigPath(dataDir: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'edge';
  return join(dataDir, 'edge-snapshot', `${safe}.json`);
}

export interface LastKnownConfigFileOptions {
  /**
   * Least time between the end of one write and the start of the next; saves meanwhile coalesce
   * into the latest. At 100,000 hostnames a write is ~45 MB of JSON: one per config change would
   * keep the edge serialising and collecting garbage under a burst of API writes. Default 1000.
   */
  minIntervalMs?: number;
}

/** A configuration, or how to make it when it is written (only the latest of a burst is made). */
export type ConfigSource = ConfigData | (() => ConfigData);

export class LastKnownConfigFile implements LastKnownConfig {
  readonly path: string;
  readonly #dir: string;
  readonly #minIntervalMs: number;
  #saving: Promise<void> | null = null;
  #pending: ConfigSource | null = null;
  #savedVersion = -1;

  constructor(path: string, opts: LastKnownConfigFileOptions = {}) {
    this.path = path;
    this.#dir = join(path, '..');
    this.#minIntervalMs = opts.minIntervalMs ?? 1000;
  }

  /**
   * This node's copy, else the newest copy another node (worker) of this data dir left; null when
   * there is none. A damaged file is skipped: an edge with no copy waits for the store instead.
   */
  async load(): Promise<ConfigData | null> {
    let damaged: unknown = null;
    const own = await readSnapshot(this.path).catch((err: unknown) => {
      damaged = err;
      return null;
    });
    if (own) return own.config;
    let names: string[] = [];
    try {
      names = (await readdir(this.#dir)).filter((n) => n.endsWith('.json'));
    } catch {
      // no directory yet: nothing was ever saved here
    }
    let best: SnapshotFile | null = null;
    for (const name of names) {
      const file = await readSnapshot(join(this.#dir, name)).catch(() => null);
      if (file && (best === null || file.version > best.version)) best = file;
    }
    if (best === null && damaged !== null) throw damaged;
    return best?.config ?? null;
  }

  /** One write at a time; calls made meanwhile coalesce into one write of the latest. */
  save(source: ConfigSource): Promise<void> {
    this.#pending = source;
    this.#saving ??= this.#drain().finally(() => {
      this.#saving = null;
    });
    return this.#saving;
  }

  async #drain(): Promise<void> {
    let wrote = false;
    while (this.#pending !== null) {
      if (wrote) await pause(this.#minIntervalMs);
      const source = this.#pending;
      this.#pending = null;
      const data = typeof source === 'function' ? source() : source;
      if (data.version === this.#savedVersion) continue;
      await this.#write(data);
      this.#savedVersion = data.version;
      wrote = true;
    }
  }

  async #write(data: ConfigData): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const body: SnapshotFile = { format: FORMAT, savedAt: Date.now(), version: data.version, config: data };
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      // Sealed keys are in here: owner-only, like the SQLite file.
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(jsonPieces(body));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw new LastKnownConfigError(`cannot write the edge snapshot ${this.path}`, { cause: err });
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * JSON.stringify(body) in pieces of about PIECE_CHARS: the arrays of the configuration are
 * serialized item by item, everything else whole.
 */
function* jsonPieces(body: SnapshotFile): Generator<string> {
  const { config, ...head } = body;
  let piece = JSON.stringify(head).slice(0, -1) + ',"config":{';
  let firstKey = true;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    piece += (firstKey ? '' : ',') + JSON.stringify(key) + ':';
    firstKey = false;
    if (!Array.isArray(value)) {
      piece += JSON.stringify(value);
      continue;
    }
    piece += '[';
    for (let i = 0; i < value.length; i++) {
      piece += (i === 0 ? '' : ',') + (JSON.stringify(value[i]) ?? 'null');
      if (piece.length >= PIECE_CHARS) {
        yield piece;
        piece = '';
      }
    }
    piece += ']';
  }
  yield piece + '}}';
}

async function readSnapshot(path: string): Promise<SnapshotFile | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LastKnownConfigError(`cannot read the edge snapshot ${path}`, { cause: err });
  }
  let file: SnapshotFile;
  try {
    file = JSON.parse(text) as SnapshotFile;
  } catch (err) {
    throw new LastKnownConfigError(`the edge snapshot ${path} is not valid JSON`, { cause: err });
  }
  const c = file?.config;
  const valid =
    file?.format === FORMAT &&
    typeof c?.version === 'number' &&
    [c.zones, c.records, c.certificates, c.associations].every(Array.isArray) &&
    typeof c.pki?.globalCertPem === 'string';
  if (!valid) throw new LastKnownConfigError(`the edge snapshot ${path} has an unknown format`);
  // Saved before custom edge certificates existed: there were none.
  if (!Array.isArray(c.edgeCertificates)) c.edgeCertificates = [];
  // Saved before the edge zone settings and origin overrides existed: they had their defaults.
  for (const zone of c.zones) {
    zone.edge = { ...DEFAULT_EDGE_SETTINGS, ...zone.edge };
    zone.edgeModifiedOn ??= {};
  }
  for (const record of c.records) {
    record.originSni ??= null;
    record.originHostHeader ??= null;
  }
  return file;
}
