import pg from 'pg';

/** Drops every database of this run: the template and any clone a crashed test left behind. */
export default async function globalTeardown() {
  const runId = process.env.LOA_TEST_RUN_ID;
  if (!runId) return;
  const client = new pg.Client({
    connectionString: process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`loa_test_${runId}_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
