// The PostgreSQL the tests use (the machines run one on 127.0.0.1:5432, trust auth, database
// `test`; ORIGINPULL_TEST_PG points elsewhere), and the reason to skip when it does not answer.
import pg from 'pg';

export const PG_URL = process.env.ORIGINPULL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when PostgreSQL answers a query; else why not, for `skip`. */
export async function postgresUnreachable(url = PG_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL not reachable at ${url} (${(err as Error).message}): start one or set ORIGINPULL_TEST_PG`;
  } finally {
    await client.end().catch(() => {});
  }
}
