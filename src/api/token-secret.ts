// API token secrets: random, shown once, stored only as SHA-256 and compared in constant time.
// Tested in test/api/auth.test.ts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 40 URL-safe characters, like Cloudflare's tokens (30 random bytes). */
export function generateTokenSecret(): string {
  return randomBytes(30).toString('base64url');
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
