/**
 * Fleet capacity: how many simulated speakers one Loa process holds online with a
 * heartbeat every 30 s, and what that costs in memory and CPU.
 *
 *   npm run bench -- [--counts 1000,10000] [--window 120] [--sims 2]
 *
 * Each step starts a fresh Loa (own database, own Redis prefix) as a child process, then
 * the simulator in separate processes so that Loa's own CPU and RSS are read alone from
 * /proc. It waits until every speaker is online, then measures over a steady window.
 * Writes bench/results/fleet-capacity-<date>.json and appends rows to bench/RESULTS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLK_TCK, PG_ADMIN, procStat, sleep, waitFor, withAdmin } from './support.js';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000,10000' },
    window: { type: 'string', default: '120' },
    sims: { type: 'string', default: '2' },
    rate: { type: 'string', default: '250' },
  },
});
const COUNTS = values.counts.split(',').map(Number);
const WINDOW_S = Number(values.window);
const SIMS = Number(values.sims);
const RATE = Number(values.rate);
const HTTP_PORT = 3210;
const MQTT_PORT = 1885;
const ADMIN = { username: 'admin', password: 'bench-admin-password' };

interface StepResult {
  devices: number;
  secondsToAllOnline: number;
  connectsPerSecond: number;
  idleRssMiB: number;
  rssMiB: number;
  rssKiBPerDevice: number;
  cpuPercentOfOneCore: number;
  heartbeatsPerSecondSent: number;
  onlineAtEnd: number;
  offlineAtEnd: number;
}

const log = (line: string) => console.log(`[bench] ${line}`);



function start(label: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        onLine?.(line);
        if (/error|warn/i.test(line)) console.log(`${label} ${line}`);
      }
    });
  }
  return child;
}

async function api<T>(path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}


async function runStep(devices: number): Promise<StepResult> {
  const db = `loa_bench_${devices}`;
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${db}"`);
  });
  const loa = start('[loa]', ['dist/src/main.js'], {
    DATABASE_URL: PG_ADMIN.replace(/\/[^/]*$/, `/${db}`),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `loa_bench_${devices}_${Date.now()}`,
    PORT: String(HTTP_PORT),
    MQTT_PORT: String(MQTT_PORT),
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    JWT_SECRET: 'bench-jwt-secret-0123456789',
    // Provisioning 10,000 devices one by one outlasts the default 15 min access token.
    JWT_TTL_S: String(4 * 3600),
    SEED_DEMO_AREAS: 'true',
    HEARTBEAT_INTERVAL_S: '30',
    LOG_LEVEL: 'warn',
  });
  const sims: ChildProcess[] = [];
  const heartbeatRates = new Map<number, number>();
  const fleetDir = join('bench', 'results', `.fleet-${devices}`);
  try {
    await waitFor('Loa ready', async () => (await fetch(`http://127.0.0.1:${HTTP_PORT}/health/ready`)).ok, 60_000, 500);
    await sleep(3000);
    const idle = procStat(loa.pid!);
    const { accessToken } = await api<{ accessToken: string }>('/api/v1/auth/login', undefined, ADMIN);
    const online = async () =>
      (await api<{ total: number }>('/api/v1/devices?state=online&pageSize=1', accessToken)).total;
    const offline = async () =>
      (await api<{ total: number }>('/api/v1/devices?state=offline&pageSize=1', accessToken)).total;

    mkdirSync(fleetDir, { recursive: true });
    const perSim = Math.ceil(devices / SIMS);
    const startedAt = Date.now();
    for (let i = 0; i < SIMS; i++) {
      const count = Math.min(perSim, devices - i * perSim);
      if (count <= 0) break;
      sims.push(
        start(
          `[sim${i}]`,
          [
            'dist/devices-sim/cli.js',
            '--count', String(count), '--area', '06', '--prefix', `bench${i}`,
            '--api', `http://127.0.0.1:${HTTP_PORT}`, '--mqtt', `mqtt://127.0.0.1:${MQTT_PORT}`,
            '--username', ADMIN.username, '--password', ADMIN.password,
            '--rate', String(Math.ceil(RATE / SIMS)), '--fleet-file', join(fleetDir, `sim${i}.json`),
          ],
          {},
          (line) => {
            const match = /([\d.]+) heartbeats\/s/.exec(line);
            if (match) heartbeatRates.set(i, Number(match[1]));
          },
        ),
      );
    }
    let firstOnlineAt = 0;
    await waitFor(
      `${devices} devices online`,
      async () => {
        const n = await online();
        if (n > 0 && !firstOnlineAt) firstOnlineAt = Date.now();
        return n >= devices;
      },
      20 * 60_000,
      2000,
    );
    const allOnlineAt = Date.now();
    log(`${devices} online after ${((allOnlineAt - startedAt) / 1000).toFixed(1)} s; measuring for ${WINDOW_S} s`);

    // One full heartbeat interval first, so every speaker has settled into its rhythm.
    await sleep(30_000);
    const before = procStat(loa.pid!);
    const t0 = Date.now();
    let peakRss = before.rssBytes;
    while (Date.now() - t0 < WINDOW_S * 1000) {
      await sleep(5000);
      peakRss = Math.max(peakRss, procStat(loa.pid!).rssBytes);
    }
    const after = procStat(loa.pid!);
    const elapsedS = (Date.now() - t0) / 1000;
    const [onlineAtEnd, offlineAtEnd] = [await online(), await offline()];
    const rssMiB = peakRss / 2 ** 20;
    return {
      devices,
      secondsToAllOnline: round((allOnlineAt - startedAt) / 1000),
      connectsPerSecond: round(devices / Math.max(1, (allOnlineAt - (firstOnlineAt || startedAt)) / 1000)),
      idleRssMiB: round(idle.rssBytes / 2 ** 20),
      rssMiB: round(rssMiB),
      rssKiBPerDevice: round((peakRss - idle.rssBytes) / 1024 / devices),
      cpuPercentOfOneCore: round(((after.cpuTicks - before.cpuTicks) / CLK_TCK / elapsedS) * 100),
      heartbeatsPerSecondSent: round([...heartbeatRates.values()].reduce((a, b) => a + b, 0)),
      onlineAtEnd,
      offlineAtEnd,
    };
  } finally {
    for (const sim of sims) sim.kill('SIGTERM');
    await sleep(2000);
    for (const sim of sims) sim.kill('SIGKILL');
    loa.kill('SIGTERM');
    await new Promise((r) => (loa.exitCode !== null ? r(null) : loa.once('exit', r)));
    rmSync(fleetDir, { recursive: true, force: true });
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)).catch(() => undefined);
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const date = new Date().toISOString();
  const results: StepResult[] = [];
  for (const n of COUNTS) {
    log(`step: ${n} devices`);
    const result = await runStep(n);
    log(JSON.stringify(result));
    results.push(result);
  }
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench', 'results', `fleet-capacity-${date.slice(0, 10)}.json`);
  writeFileSync(file, JSON.stringify({ date, machine, node: process.version, windowS: WINDOW_S, sims: SIMS, results }, null, 2));
  const table = 'bench/RESULTS.md';
  if (!existsSync(table)) writeFileSync(table, '# Benchmark results\n');
  appendFileSync(
    table,
    [
      '',
      `## Fleet capacity — ${date.slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Machine: ${machine}; Node ${process.version}; heartbeat every 30 s; window ${WINDOW_S} s; the simulator ran in ${SIMS} processes on the same 2 cores.`,
      '',
      '| devices | all online after (s, incl. provisioning) | connects/s | idle RSS (MiB) | RSS (MiB) | RSS per device (KiB) | Loa CPU (% of one core) | heartbeats/s sent | online / offline at end |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...results.map(
        (r) =>
          `| ${r.devices} | ${r.secondsToAllOnline} | ${r.connectsPerSecond} | ${r.idleRssMiB} | ${r.rssMiB} | ${r.rssKiBPerDevice} | ${r.cpuPercentOfOneCore} | ${r.heartbeatsPerSecondSent} | ${r.onlineAtEnd} / ${r.offlineAtEnd} |`,
      ),
      '',
    ].join('\n'),
  );
  log(`wrote ${file} and a table in ${table}`);
}

main().catch((err: unknown) => {
  console.error(`[bench] ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
