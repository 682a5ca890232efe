import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belongsToZone, isValidHostname, normalizeHostname, wildcardFor } from '../../src/domain/index.ts';

test('normalizeHostname lower-cases, trims and drops one trailing dot', () => {
  assert.equal(normalizeHostname('  App.Example.COM. '), 'app.example.com');
  assert.equal(normalizeHostname('example.com'), 'example.com');
});

test('isValidHostname: LDH labels, at least two, wildcard only first and only when allowed', () => {
  for (const ok of ['example.com', 'a-b.example.com', 'x1.y2.example.co.uk']) assert.ok(isValidHostname(ok), ok);
  for (const bad of ['', 'localhost', '-a.example.com', 'a-.example.com', 'a..example.com', 'a_b.example.com', 'exa mple.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}com`]) {
    assert.equal(isValidHostname(bad), false, bad);
  }
  assert.equal(isValidHostname('*.example.com'), false);
  assert.ok(isValidHostname('*.example.com', { allowWildcard: true }));
  assert.equal(isValidHostname('a.*.example.com', { allowWildcard: true }), false);
});

test('belongsToZone: the apex and names below it, not look-alikes', () => {
  assert.ok(belongsToZone('example.com', 'example.com'));
  assert.ok(belongsToZone('a.b.example.com', 'example.com'));
  assert.equal(belongsToZone('badexample.com', 'example.com'), false);
  assert.equal(belongsToZone('example.com.evil.net', 'example.com'), false);
});

test('wildcardFor: one level up', () => {
  assert.equal(wildcardFor('a.b.example.com'), '*.b.example.com');
  assert.equal(wildcardFor('example.com'), '*.com');
  assert.equal(wildcardFor('localhost'), null);
});
