/** What the benchmarks share: the Postgres admin connection, waiting, and reading /proc. */
import { readFileSync } from 'node:fs';
import pg from 'pg';

export const PG_ADMIN = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Kernel clock ticks per second (`getconf CLK_TCK`), the unit of /proc CPU times. */
export const CLK_TCK = 100;
const PAGE_SIZE = 4096;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, stepMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(stepMs);
  }
  throw new Error(`${what} not reached within ${timeoutMs / 1000} s`);
}

/** CPU time (ticks) and resident memory of a process. */
export function procStat(pid: number): { cpuTicks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], [12] are utime, stime; [21] is rss in pages (man 5 proc, counted from field 3)
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssBytes: Number(fields[21]) * PAGE_SIZE };
}
