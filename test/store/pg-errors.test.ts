// Which PostgreSQL failures mean "the store is unavailable, send the request again later" (a
// lost or stalled connection, a killed session, a timeout of ours) and which belong to the
// request itself. The real errors behind these shapes are produced in test/faults/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnavailable, storeFailure } from '../../src/store/postgres/pg-errors.ts';
import { ConflictError, StoreUnavailableError } from '../../src/store/index.ts';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('lost connections, killed sessions and timeouts are unavailability', () => {
  const cases = [
    withCode('terminating connection due to administrator command', '57P01'),
    withCode('canceling statement due to statement timeout', '57014'),
    withCode('canceling statement due to lock timeout', '55P03'),
    withCode('terminating connection due to idle-in-transaction timeout', '25P03'),
    withCode('the database system is starting up', '57P03'),
    withCode('connection failure', '08006'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    new Error('Connection terminated unexpectedly'),
    new Error('Query read timeout'),
    new Error('timeout exceeded when trying to connect'),
    new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')], ''),
  ];
  for (const err of cases) assert.equal(isUnavailable(err), true, err.message);
});

test("the request's own failures are not", () => {
  const cases: unknown[] = [
    withCode('duplicate key value violates unique constraint', '23505'),
    withCode('syntax error at or near "SELEC"', '42601'),
    withCode('could not serialize access due to concurrent update', '40001'),
    new ConflictError('zone exists'),
    new Error('something else'),
    'a string',
    null,
  ];
  for (const err of cases) assert.equal(isUnavailable(err), false, String(err));
});

test('storeFailure names the store and keeps the cause; other errors pass unchanged', () => {
  const cause = withCode('terminating connection due to administrator command', '57P01');
  const failure = storeFailure(cause);
  assert.ok(failure instanceof StoreUnavailableError);
  assert.equal(failure.store, 'PostgreSQL');
  assert.match(failure.message, /PostgreSQL.*administrator command/);
  assert.equal(failure.cause, cause);
  const own = withCode('duplicate key', '23505');
  assert.equal(storeFailure(own), own);
});
