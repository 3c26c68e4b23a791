import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.js';

/**
 * Throw-away databases: the global setup migrates one template per run; each test file
 * clones it (CREATE DATABASE … TEMPLATE is a file copy, far faster than migrating again).
 */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const RUN_ID = process.env.LOA_TEST_RUN_ID ?? `${process.pid}`;
export const TEMPLATE_DB = `loa_test_${RUN_ID}_template`;

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let templateReady: Promise<void> | null = null;

/** Migrates the run's template once; an advisory lock keeps parallel test files from racing. */
function ensureTemplate(): Promise<void> {
  templateReady ??= withAdmin(async (c) => {
    await c.query('SELECT pg_advisory_lock(hashtext($1))', [TEMPLATE_DB]);
    try {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE_DB]);
      if (rowCount) return;
      await c.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
      const ds = new DataSource(dataSourceOptions(databaseUrl(TEMPLATE_DB)));
      await ds.initialize();
      try {
        await ds.runMigrations();
      } finally {
        await ds.destroy();
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', [TEMPLATE_DB]);
    }
  });
  return templateReady;
}

export async function cloneTemplate(): Promise<{ name: string; url: string }> {
  await ensureTemplate();
  const name = `loa_test_${RUN_ID}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`));
  return { name, url: databaseUrl(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
