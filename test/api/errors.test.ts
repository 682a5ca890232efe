// The one catalogue of API errors: every v4 code names one failure. (A store-unavailable 503 once
// shared 1170 with "webhook destination not found", whose codes lived in a catalogue of their own.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { API_ERRORS } from '../../src/api/errors.ts';
import { CERT_ERROR_CODES, EDGE_CERT_ERROR_CODES } from '../../src/domain/index.ts';

test('every code of the catalogue is used by one error only, and by none of the upload validators', () => {
  const byCode = new Map<number, string[]>();
  for (const [name, def] of Object.entries(API_ERRORS)) byCode.set(def.code, [...(byCode.get(def.code) ?? []), name]);
  // Cloudflare answers both a missing and an insufficient token with 10000 (told apart by 401/403).
  assert.deepEqual([...byCode].filter(([code, names]) => names.length > 1 && code !== 10000), []);
  assert.deepEqual(byCode.get(10000), ['authentication', 'forbidden']);
  // Upload faults carry the validators' own codes; the catalogue may name one of them (to answer it
  // outside an upload), never give its number to something else.
  const validatorCodes = new Set<number>([...Object.values(CERT_ERROR_CODES), ...Object.values(EDGE_CERT_ERROR_CODES)]);
  const validatorNames = new Map<number, string>([...Object.entries(CERT_ERROR_CODES), ...Object.entries(EDGE_CERT_ERROR_CODES)].map(([k, v]) => [v, k]));
  for (const [name, def] of Object.entries(API_ERRORS)) {
    if (validatorCodes.has(def.code)) assert.ok(/cert/i.test(name), `${name} uses ${def.code}, the validators' ${validatorNames.get(def.code)}`);
  }
  for (const def of Object.values(API_ERRORS)) assert.ok(def.status >= 400 && def.status < 600 && def.message.length > 5);
});

test('no module of the API keeps error codes of its own beside the catalogue', () => {
  const dir = new URL('../../src/api/', import.meta.url);
  const catalogue = new Set(Object.values(API_ERRORS).map((d) => d.code));
  for (const file of readdirSync(dir, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts') || file === 'errors.ts') continue;
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/\bcode: (\d{4,5})\b/g)) {
      assert.ok(catalogue.has(Number(m[1])), `src/api/${file} defines code ${m[1]} outside src/api/errors.ts`);
    }
    assert.doesNotMatch(text, /satisfies Record<string, ErrorDef>/, `src/api/${file} has an error catalogue of its own`);
  }
});
