/** What the benchmarks share: processes, ports, waiting, reading /proc, and small statistics. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { epochNow } from './clock.js';

export const PG_ADMIN = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Kernel clock ticks per second (`getconf CLK_TCK`), the unit of /proc CPU times. */
export const CLK_TCK = 100;
const PAGE_SIZE = 4096;

/** Every child process a benchmark started, so an interrupted run can end them (`killChildren`). */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const log = (line: string) => console.log(`[bench] ${line}`);

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** CPU time (ticks) and resident memory of a process. */
export function procStat(pid: number): { cpuTicks: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], [12] are utime, stime; [21] is rss in pages (man 5 proc, counted from field 3)
  return { cpuTicks: Number(fields[11]) + Number(fields[12]), rssBytes: Number(fields[21]) * PAGE_SIZE };
}

export interface CpuTimeline {
  /** Takes the last reading and stops reading, the first time it is called; later calls do nothing. */
  stop(): void;
  /** CPU (ms) of each group from the start to the stop (to the latest reading, before it). */
  spent(): number[];
  /** CPU (ms) of each group from the start to the first reading at or after `at` (epoch ms), or to the last. */
  until(at: number): number[];
}

/**
 * CPU the given groups of processes spend from now on, read from `/proc` every `everyMs`
 * until `stop()`, so that it can also be had up to a moment known only afterwards (the last
 * speaker's receipt). Ticks are 10 ms, so a reading is good to about 10 ms per process, and
 * `until` to a reading's interval more.
 */
export function cpuTimeline(groups: number[][], everyMs = 20): CpuTimeline {
  const readings: { at: number; ticks: number[] }[] = [];
  const read = () => readings.push({ at: epochNow(), ticks: groups.map(cpuTicksOf) });
  const since = (end: { ticks: number[] }) => end.ticks.map((t, i) => ((t - readings[0].ticks[i]) * 1000) / CLK_TCK);
  read();
  // Unref'd: a round that throws before stop() must not keep the bench alive.
  let timer: NodeJS.Timeout | null = setInterval(read, everyMs).unref();
  return {
    stop: () => {
      if (!timer) return;
      clearInterval(timer);
      timer = null;
      read();
    },
    spent: () => since(readings[readings.length - 1]),
    until: (at) => since(readings.find((r) => r.at >= at) ?? readings[readings.length - 1]),
  };
}

function cpuTicksOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + procStat(pid).cpuTicks, 0);
}

/** Busy ticks of all cores together (the first line of /proc/stat, less idle and iowait). */
function machineBusyTicks(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  return ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
}

/**
 * CPU used from now until the returned function is called, in % of one core: the server
 * process(es), the client processes, and everything else on the machine (Postgres, Redis,
 * other people's work).
 */
export interface CpuShares {
  server: number;
  clients: number;
  rest: number;
}

export function cpuMeter(servers: number[], clients: number[]): () => CpuShares {
  const t0 = Date.now();
  const [s0, c0, m0] = [cpuTicksOf(servers), cpuTicksOf(clients), machineBusyTicks()];
  return () => {
    const seconds = (Date.now() - t0) / 1000;
    const server = cpuTicksOf(servers) - s0;
    const client = cpuTicksOf(clients) - c0;
    const machine = machineBusyTicks() - m0;
    const share = (n: number) => round((n / CLK_TCK / seconds) * 100);
    return { server: share(server), clients: share(client), rest: share(Math.max(0, machine - server - client)) };
  };
}

/** CPU of everything but the given processes over the next 2 s: what else is loading the machine. */
export async function backgroundLoad(exclude: number[]): Promise<number> {
  const meter = cpuMeter(exclude, []);
  await sleep(2000);
  return meter().rest;
}

/** Waits until a process has stayed under 10% of a core for 2 s (connect-time work is over). */
export async function settle(pid: number, maxSeconds = 60): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < maxSeconds && quiet < 2; i++) {
    const before = procStat(pid).cpuTicks;
    await sleep(1000);
    quiet = procStat(pid).cpuTicks - before < 0.1 * CLK_TCK ? quiet + 1 : 0;
  }
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(values: number[]): Spread {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN);
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

export const showSpread = (s: Spread) => `${s.p50} / ${s.p99} / ${s.max}`;

/**
 * Starts a child with the soft open-files limit raised to the hard one: Loa and the
 * brokers hold one socket per device. Lines on stderr/stdout are echoed with `label`
 * when `echo` says so (by default: those that mention an error or a warning).
 */
export function spawnWithFileLimit(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  label: string,
  echo: (line: string) => boolean = (line) => /error|warn/i.test(line),
): ChildProcess {
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim() && echo(line)) console.log(`${label} ${line}`);
    });
  }
  return child;
}

export async function stopProcess(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if (!(await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]))) {
    child.kill('SIGKILL');
    await exited;
  }
}

export async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    log(`Redis keys under ${prefix} not removed`);
  } finally {
    redis.disconnect();
  }
}
