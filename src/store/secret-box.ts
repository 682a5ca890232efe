// Private keys are sealed with AES-256-GCM before they reach any store, and opened only where a
// TLS context is built. Format: "v1:" + base64(iv[12] | tag[16] | ciphertext).
// Tested in test/api/keys-at-rest.test.ts and test/store/sqlite.test.ts (keys at rest).
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, timingSafeEqual, createHash, type KeyObject } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

const PREFIX = 'v1:';

export class SecretBoxError extends Error {}

export class SecretBox {
  readonly #key: Buffer;
  /** The key as Node's KeyObject: a cipher made from a Buffer key converts it each time (4× slower to open). */
  readonly #cipherKey: KeyObject;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretBoxError(`secret key must be 32 bytes, got ${key.length}`);
    this.#key = key;
    this.#cipherKey = createSecretKey(key);
  }

  /** Parses a key given as 64 hex characters or base64 of 32 bytes. */
  static fromString(text: string): SecretBox {
    const trimmed = text.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
    return new SecretBox(bytes);
  }

  /**
   * Loads the key from `envValue` when given, else from `file`, creating the file (mode 0600)
   * with a random key when it does not exist.
   */
  static async load(file: string, envValue?: string): Promise<SecretBox> {
    if (envValue) return SecretBox.fromString(envValue);
    try {
      return SecretBox.fromString(await readFile(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await mkdir(dirname(file), { recursive: true });
    const key = randomBytes(32);
    try {
      await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
      return new SecretBox(key);
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return SecretBox.fromString(await readFile(file, 'utf8'));
      throw err;
    }
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#cipherKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new SecretBoxError('sealed value has an unknown format');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.#cipherKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretBoxError('cannot open a sealed value: the secret key differs from the one that sealed it', { cause: err });
    }
  }

  /** A value stored once per installation so a node with another key can refuse to start. */
  checkValue(): string {
    return createHash('sha256').update('originpull-key-check').update(this.#key).digest('hex');
  }

  matchesCheckValue(stored: string): boolean {
    const mine = Buffer.from(this.checkValue(), 'hex');
    const theirs = Buffer.from(stored, 'hex');
    return mine.length === theirs.length && timingSafeEqual(mine, theirs);
  }
}
