/**
 * Emergency fan-out: how long an emergency `now` broadcast to every speaker of a province
 * takes to reach them all, and to have all their acks in the as-run log; and, side by
 * side, the same fan-out through Mosquitto as the raw-broker reference.
 *
 *   npm run bench:fanout -- [--devices 1000,10000] [--repeat 1] [--workers 2] [--batch 500]
 *                           [--record] [--profile] [--skip-loa] [--skip-mosquitto]
 *
 * Loa: a fresh Loa child process (own database, own Redis prefix, free ports); areas and
 * devices are inserted with SQL once it has migrated, every device with the same secret
 * (one scrypt hash shared by all: provisioning through the API costs minutes, and is not
 * what is measured). Minimal firmware clients (bench/fanout-clients.ts) run in `--workers`
 * forked processes, connect in paced batches, and the broadcast is posted only once Loa
 * shows them all online and its CPU has settled. Receipt times are taken by the clients,
 * relative to the moment the POST was sent; "acks recorded" is when a poll of Postgres
 * (every POLL_MS) first counts every delivery `delivered`.
 *
 * Mosquitto: its own process on a free port with a generated config; the same clients,
 * one QoS 1 publish of the same bytes on the province topic, and one subscriber counting
 * the acks the clients publish back (the raw-broker analogue of "acks recorded").
 *
 * Writes bench/results/emergency-fanout-<date>.json; with --record, also appends a table
 * to bench/RESULTS.md. --profile writes a V8 CPU profile of Loa to a temporary folder.
 */
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { areaCommandsTopic } from '../src/broker/topics.js';
import { HASH_COST, hashSecret, newDeviceSecret } from '../src/common/secret-hash.js';
import { pcmWav } from '../devices-sim/wav.js';
import { epochNow, type ClientsReport, type EpochMs, type FanoutDevice, type FromClients, type ToClients } from './fanout-clients.js';
import { CLK_TCK, PG_ADMIN, procStat, sleep, waitFor, withAdmin } from './support.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000,10000' },
    repeat: { type: 'string', default: '1' },
    workers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '500' },
    'skip-mosquitto': { type: 'boolean', default: false },
    'skip-loa': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
  },
});
const COUNTS = values.devices.split(',').map(Number);
const REPEAT = Number(values.repeat);
const WORKERS = Number(values.workers);
const BATCH = Number(values.batch);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';
const DATABASE = 'loa_bench_fanout';
const ADMIN = { username: 'admin', password: 'bench-admin-password' };
/** Not a GSO province (those stop at 96): 10 districts of 10 communes each under it. */
const PROVINCE = '99';
const POLL_MS = 50;
/** How long a run may take from the POST to the last ack before it is called incomplete. */
const RUN_TIMEOUT_MS = 60_000;
const BATCH_PAUSE_MS = 200;
const CLIENTS_SCRIPT = fileURLToPath(new URL('./fanout-clients.js', import.meta.url));
const LOA_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Spread {
  first: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

interface LoaRun {
  devices: number;
  provisionS: number;
  connectS: number;
  /** The POST's response arrived this long after it was sent. */
  postMs: number;
  receipt: Spread;
  received: number;
  duplicates: number;
  /** When Loa heard each ack (deliveries.delivered_at), relative to the POST. */
  ackHeard: Spread;
  acksRecordedMs: number | null;
  recorded: number;
  cpu: CpuShares;
  /** CPU of everything but Loa and the clients in the 2 s before the send: other work sharing the machine. */
  background: number;
  commandBytes: number;
  /** The play command as the clients received it, replayed through Mosquitto. */
  sample: string | null;
}

interface MosquittoRun {
  devices: number;
  receipt: Spread;
  received: number;
  acksReceivedMs: number | null;
  acks: number;
  cpu: CpuShares;
  background: number;
}

/**
 * CPU used from the send to the last ack, in % of one core (the machine has cpus().length
 * of them): the broker process, the client workers, and everything else (Postgres, Redis,
 * and whatever else runs on the machine).
 */
interface CpuShares {
  server: number;
  clients: number;
  rest: number;
}

const log = (line: string) => console.log(`[fanout] ${line}`);
const round = (n: number) => Math.round(n * 10) / 10;

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN);
  return { first: round(sorted[0] ?? NaN), p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}




/** Busy ticks of all cores together (the first line of /proc/stat, less idle and iowait). */
function machineTicks(): { busy: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  return { busy: ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4] };
}

/** CPU meter over the server's and the clients' processes, and the whole machine, started now. */
function cpuMeter(server: number, clients: number[]): () => CpuShares {
  const t0 = Date.now();
  const [s0, c0, m0] = [procStat(server).cpuTicks, clients.map((pid) => procStat(pid).cpuTicks), machineTicks()];
  return () => {
    const seconds = (Date.now() - t0) / 1000;
    const serverTicks = procStat(server).cpuTicks - s0;
    const clientTicks = clients.reduce((sum, pid, i) => sum + procStat(pid).cpuTicks - c0[i], 0);
    const machine = machineTicks().busy - m0.busy;
    const share = (ticks: number) => round((ticks / CLK_TCK / seconds) * 100);
    return { server: share(serverTicks), clients: share(clientTicks), rest: share(Math.max(0, machine - serverTicks - clientTicks)) };
  };
}

/** Raises the soft open-files limit to the hard one for a child that holds thousands of sockets. */
function spawnWithFileLimit(command: string, args: string[], env: NodeJS.ProcessEnv, label: string): ChildProcess {
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) console.log(`${label} ${line}`);
    });
  }
  return child;
}

async function stopProcess(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  if (!(await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]))) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The firmware clients, split over forked worker processes. */
class Fleet {
  private readonly workers: ChildProcess[] = [];
  private readonly slices: FanoutDevice[][] = [];

  constructor(devices: FanoutDevice[]) {
    const per = Math.ceil(devices.length / WORKERS);
    for (let i = 0; i < WORKERS && i * per < devices.length; i++) {
      this.slices.push(devices.slice(i * per, (i + 1) * per));
      this.workers.push(fork(CLIENTS_SCRIPT, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    }
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid!);
  }

  async connect(url: string): Promise<void> {
    const perBatch = Math.max(1, Math.floor(BATCH / this.workers.length));
    const connected = this.workers.map((worker, i) => {
      const reply = this.next(worker, 'connected');
      this.tell(worker, { type: 'connect', url, devices: this.slices[i], batchSize: perBatch, batchPauseMs: BATCH_PAUSE_MS });
      return reply;
    });
    const results = await Promise.all(connected);
    const failures = results.flatMap((r) => r.failures);
    const count = results.reduce((sum, r) => sum + r.count, 0);
    if (failures.length) throw new Error(`${failures.length}+ clients failed to connect, e.g. ${failures.slice(0, 3).join('; ')}`);
    log(`${count} clients connected and subscribed`);
  }

  /** Resolves when every client has received the play and its ack was confirmed, or after `timeoutMs`. */
  async allDone(timeoutMs: number): Promise<boolean> {
    const done = Promise.all(this.workers.map((w) => this.next(w, 'done'))).then(() => true);
    return Promise.race([done, sleep(timeoutMs).then(() => false)]);
  }

  async report(): Promise<ClientsReport> {
    const reports = await Promise.all(
      this.workers.map((w) => {
        const reply = this.next(w, 'report');
        this.tell(w, { type: 'report' });
        return reply.then((r) => r.report);
      }),
    );
    return {
      receivedAt: reports.flatMap((r) => [...r.receivedAt]),
      ackConfirmedAt: reports.flatMap((r) => [...r.ackConfirmedAt]),
      duplicates: reports.reduce((sum, r) => sum + r.duplicates, 0),
      disconnects: reports.reduce((sum, r) => sum + r.disconnects, 0),
      sample: reports.find((r) => r.sample)?.sample ?? null,
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.connected) this.tell(w, { type: 'stop' });
        await Promise.race([new Promise((r) => w.once('exit', r)), sleep(5000)]);
        if (w.exitCode === null) w.kill('SIGKILL');
      }),
    );
  }

  private tell(worker: ChildProcess, message: ToClients): void {
    worker.send(message);
  }

  private next<T extends FromClients['type']>(worker: ChildProcess, type: T): Promise<Extract<FromClients, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromClients) => {
        if (message.type !== type) return;
        cleanup();
        resolve(message as Extract<FromClients, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`client worker ${worker.pid} exited (${code}) while waiting for "${type}"`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }
}

/** The REST calls an operator makes, with the admin's token. */
class Operator {
  private token = '';

  constructor(private readonly baseUrl: string) {}

  async login(): Promise<void> {
    this.token = (await this.call<{ accessToken: string }>('POST', '/api/v1/auth/login', ADMIN)).accessToken;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const form = body instanceof FormData;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined && !form ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** An approved disaster bulletin of a generated WAV, ready to broadcast. */
  async approvedBulletin(): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pcmWav(30_000, () => 0))], { type: 'audio/wav' }), 'evacuation.wav');
    form.append('title', 'Fan-out benchmark alert');
    const media = await this.call<{ id: string }>('POST', '/api/v1/media', form);
    const bulletin = await this.call<{ id: string }>('POST', '/api/v1/bulletins', {
      title: 'Flood warning: move to high ground',
      category: 'disaster',
      mediaId: media.id,
    });
    await this.call('POST', `/api/v1/bulletins/${bulletin.id}/submit`);
    await this.call('POST', `/api/v1/bulletins/${bulletin.id}/approve`);
    return bulletin.id;
  }

  async onlineDevices(): Promise<number> {
    return (await this.call<{ total: number }>('GET', '/api/v1/devices?state=online&pageSize=1')).total;
  }
}

/** A province of 10 districts × 10 communes, and `n` devices spread over the communes, all with one secret. */
async function provision(db: pg.Client, n: number, secret: string): Promise<FanoutDevice[]> {
  const secretHash = await hashSecret(secret, HASH_COST.deviceSecret);
  await db.query(
    `WITH p AS (INSERT INTO areas (code, name, level, path) VALUES ($1::varchar, 'Fan-out province', 'province', '/' || $1::varchar || '/') RETURNING id, code, path),
     d AS (INSERT INTO areas (code, name, level, parent_id, path)
           SELECT p.code || g, 'District ' || g, 'district', p.id, p.path || p.code || g || '/' FROM p, generate_series(0, 9) g
           RETURNING id, code, path)
     INSERT INTO areas (code, name, level, parent_id, path)
     SELECT d.code || lpad(g::text, 2, '0'), 'Commune ' || g, 'commune', d.id, d.path || d.code || lpad(g::text, 2, '0') || '/'
     FROM d, generate_series(0, 9) g`,
    [PROVINCE],
  );
  await db.query(
    `INSERT INTO devices (code, name, area_id, secret_hash, secret_rotated_at)
     SELECT 'fanout-' || lpad(i::text, 5, '0'), 'Fan-out speaker ' || i, c.id, $2, now()
     FROM generate_series(0, $1::int - 1) i
     JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k, count(*) OVER () AS n FROM areas WHERE level = 'commune') c
       ON c.k = i % c.n`,
    [n, secretHash],
  );
  const rows = await db.query<{ code: string; path: string }>(
    `SELECT d.code, a.path FROM devices d JOIN areas a ON a.id = d.area_id ORDER BY d.code`,
  );
  return rows.rows.map((r) => ({ code: r.code, secret, areaCodes: r.path.split('/').filter(Boolean) }));
}

async function runLoa(n: number): Promise<LoaRun> {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const redisPrefix = `loa_bench_fanout_${Date.now()}`;
  const mediaDir = mkdtempSync(join(tmpdir(), 'loa-fanout-media-'));
  const databaseUrl = PG_ADMIN.replace(/\/[^/]*$/, `/${DATABASE}`);
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${DATABASE}"`);
  });
  const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'loa-fanout-profile-')) : '';
  const loa = spawnWithFileLimit(
    process.execPath,
    [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), LOA_MAIN],
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      MQTT_HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      MEDIA_DIR: mediaDir,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      JWT_SECRET: 'bench-jwt-secret-0123456789',
      LOG_LEVEL: 'warn',
    },
    '[loa]',
  );
  const db = new pg.Client({ connectionString: databaseUrl });
  let fleet: Fleet | null = null;
  try {
    await waitFor('Loa ready', async () => (await fetch(`${baseUrl}/health/ready`)).ok, 90_000, 500);
    await db.connect();
    const operator = new Operator(baseUrl);
    await operator.login();
    const bulletinId = await operator.approvedBulletin();

    // Only after the migrations ran, and before any device tried: Loa caches unknown codes for a while.
    let t = Date.now();
    const devices = await provision(db, n, newDeviceSecret());
    const provisionS = round((Date.now() - t) / 1000);
    log(`provisioned ${devices.length} devices by SQL in ${provisionS} s`);

    t = Date.now();
    fleet = new Fleet(devices);
    await fleet.connect(`mqtt://127.0.0.1:${mqttPort}`);
    await waitFor(`${n} devices online`, async () => (await operator.onlineDevices()) >= n, 5 * 60_000, 1000);
    const connectS = round((Date.now() - t) / 1000);
    log(`${n} devices online after ${connectS} s`);
    await settle(loa.pid!);
    const background = await backgroundLoad(loa.pid!, fleet.pids);

    const meter = cpuMeter(loa.pid!, fleet.pids);
    let recordedAt: EpochMs | null = null;
    let recorded = 0;
    const polling = (async () => {
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const { rows } = await db.query<{ delivered: number }>(`SELECT count(*)::int AS delivered FROM deliveries WHERE status = 'delivered'`);
        recorded = rows[0].delivered;
        if (recorded >= n) return void (recordedAt = epochNow());
        await sleep(POLL_MS);
      }
    })();
    await fetch(`${baseUrl}/health`); // a warm keep-alive connection, so the POST pays no TCP handshake
    const sentAt = epochNow();
    const created = await operator.call<{ id: string; occurrences: { id: string }[] }>('POST', '/api/v1/broadcasts', {
      bulletinId,
      targets: { areaCodes: [PROVINCE] },
      schedule: { kind: 'now' },
      priority: 'emergency',
    });
    const postMs = round(epochNow() - sentAt);
    const complete = await fleet.allDone(RUN_TIMEOUT_MS);
    await polling;
    const cpu = meter();
    const report = await fleet.report();
    if (!complete) log(`not every client received and acked within ${RUN_TIMEOUT_MS / 1000} s`);

    const occurrenceId = created.occurrences[0].id;
    const heard = await db.query<{ at: string }>(
      `SELECT (extract(epoch FROM delivered_at) * 1000)::float8 AS at FROM deliveries WHERE occurrence_id = $1 AND delivered_at IS NOT NULL`,
      [occurrenceId],
    );
    const receipts = report.receivedAt.filter((at) => !Number.isNaN(at)).map((at) => at - sentAt);
    return {
      devices: n,
      provisionS,
      connectS,
      postMs,
      receipt: spread(receipts),
      received: receipts.length,
      duplicates: report.duplicates,
      ackHeard: spread(heard.rows.map((r) => Number(r.at) - sentAt)),
      acksRecordedMs: recordedAt === null ? null : round(recordedAt - sentAt),
      recorded,
      cpu,
      background,
      commandBytes: Buffer.byteLength(report.sample ?? ''),
      sample: report.sample,
    };
  } finally {
    await fleet?.stop();
    await db.end().catch(() => undefined);
    await stopProcess(loa);
    if (profileDir) log(`Loa's CPU profile is in ${profileDir}`);
    rmSync(mediaDir, { recursive: true, force: true });
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`)).catch(() => undefined);
    await dropRedisKeys(redisPrefix);
  }
}

/** Waits until connect-time work (liveness writes, credential loads) is over: Loa under 10% of a core for 2 s. */
async function settle(pid: number): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 60 && quiet < 2; i++) {
    const before = procStat(pid).cpuTicks;
    await sleep(1000);
    quiet = procStat(pid).cpuTicks - before < 0.1 * CLK_TCK ? quiet + 1 : 0;
  }
}

async function backgroundLoad(server: number, clients: number[]): Promise<number> {
  const meter = cpuMeter(server, clients);
  await sleep(2000);
  return meter().rest;
}

async function dropRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    log(`Redis keys under ${prefix} not removed`);
  } finally {
    redis.disconnect();
  }
}

function connectRaw(url: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, clean: true });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

async function runMosquitto(devices: FanoutDevice[], payload: string): Promise<MosquittoRun> {
  const n = devices.length;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'loa-fanout-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // The ack subscriber alone is sent n messages at once; the default (1000) would drop most.
      `max_queued_messages ${2 * n + 1000}`,
      'max_connections -1',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const mosquitto = spawnWithFileLimit(MOSQUITTO, ['-c', config], {}, '[mosquitto]');
  const url = `mqtt://127.0.0.1:${port}`;
  const fleet = new Fleet(devices);
  const clients: MqttClient[] = [];
  try {
    await waitFor('Mosquitto listening', async () => !!clients.push(await connectRaw(url, 'bench-publisher')), 10_000, 200);
    const [publisher] = clients;
    const acker = await connectRaw(url, 'bench-acks');
    clients.push(acker);
    let acks = 0;
    let acksAt: EpochMs | null = null;
    acker.on('message', () => {
      if (++acks === n) acksAt = epochNow();
    });
    await acker.subscribeAsync('loa/v1/devices/+/acks', { qos: 1 });
    await fleet.connect(url);
    const background = await backgroundLoad(mosquitto.pid!, fleet.pids);

    const meter = cpuMeter(mosquitto.pid!, fleet.pids);
    const sentAt = epochNow();
    publisher.publish(areaCommandsTopic(PROVINCE), payload, { qos: 1 });
    const complete = await fleet.allDone(RUN_TIMEOUT_MS);
    await waitFor('all acks at the subscriber', async () => acks >= n, complete ? 10_000 : 0, 20).catch(() => undefined);
    const cpu = meter();
    const report = await fleet.report();
    const receipts = report.receivedAt.filter((at) => !Number.isNaN(at)).map((at) => at - sentAt);
    return {
      devices: n,
      receipt: spread(receipts),
      received: receipts.length,
      acksReceivedMs: acksAt === null ? null : round(acksAt - sentAt),
      acks,
      cpu,
      background,
    };
  } finally {
    await fleet.stop();
    for (const client of clients) client.end(true);
    await stopProcess(mosquitto);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What Loa would send, for a Mosquitto-only run: the same fields, the same size within a few bytes. */
function syntheticPlay(): string {
  const id = '6f1c0a52-3a6e-4c36-9a51-1f2d3e4b5c6d';
  const now = new Date();
  return JSON.stringify({
    id,
    type: 'play',
    issuedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 600_000).toISOString(),
    occurrenceId: id,
    priority: 'emergency',
    media: {
      url: `http://127.0.0.1:3000/api/v1/media/${id}/content?token=${'x'.repeat(180)}`,
      sha256: 'f'.repeat(64),
      bytes: 240044,
      durationMs: 30000,
      mime: 'audio/wav',
    },
  });
}

function requireFileLimit(n: number): void {
  const soft = Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  const needed = Math.ceil(n / WORKERS) + 500;
  if (soft < needed) {
    throw new Error(`each client worker holds ${Math.ceil(n / WORKERS)} sockets, but the open-files limit is ${soft}: run \`ulimit -n ${needed}\` (or more) first`);
  }
}

/** Issue 3's targets: 10,000 devices reached in under 2 s at p99, every ack recorded within 10 s. */
function verdict(run: LoaRun): string {
  const reached = run.received === run.devices && run.receipt.p99 < 2000;
  const recorded = run.acksRecordedMs !== null && run.acksRecordedMs < 10_000;
  return (
    `${run.devices} devices: p99 ${run.receipt.p99} ms — ${reached ? 'meets' : 'MISSES'} the 2 s target; ` +
    `all acks recorded ${run.acksRecordedMs ?? 'never'} ms — ${recorded ? 'meets' : 'MISSES'} the 10 s target`
  );
}

function row(n: number, broker: string, post: string, r: Spread, received: number, acksMs: number | null, acks: number, cpu: CpuShares, background: number): string {
  const acked = acksMs === null ? `not reached (${acks} / ${n})` : String(acksMs);
  return `| ${n} | ${broker} | ${post} | ${r.first} / ${r.p50} / ${r.p95} / ${r.p99} / ${r.max} | ${received} / ${n} | ${acked} | ${cpu.server} / ${cpu.clients} / ${cpu.rest} | ${background} |`;
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const date = new Date().toISOString();
  // `mosquitto -h` prints its version and exits 3.
  const mosquittoVersion = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' }).stdout.match(/version (\S+)/)?.[1] ?? '?';
  const runs: { loa: LoaRun | null; mosquitto: MosquittoRun | null }[] = [];
  for (const n of COUNTS.flatMap((count) => Array<number>(REPEAT).fill(count))) {
    requireFileLimit(n);
    log(`step: ${n} devices`);
    const loa = values['skip-loa'] ? null : await runLoa(n);
    if (loa) log(`Loa: ${JSON.stringify({ ...loa, sample: undefined })}`);
    let mosquitto: MosquittoRun | null = null;
    if (!values['skip-mosquitto']) {
      const devices = Array.from({ length: n }, (_, i): FanoutDevice => {
        const district = `${PROVINCE}${Math.floor(i / 10) % 10}`;
        return { code: `fanout-${String(i).padStart(5, '0')}`, secret: 'unused', areaCodes: [PROVINCE, district, `${district}${String(i % 10).padStart(2, '0')}`] };
      });
      mosquitto = await runMosquitto(devices, loa?.sample ?? syntheticPlay());
      log(`Mosquitto: ${JSON.stringify(mosquitto)}`);
    }
    runs.push({ loa, mosquitto });
  }

  const header = [
    '| devices | broker | POST answered (ms) | received first / p50 / p95 / p99 / max = all (ms) | received | all acks recorded (ms) | CPU broker / clients / rest (% of a core) | background before (% of a core) |',
    '|---:|---|---:|---|---:|---:|---|---:|',
  ];
  const rows = runs.flatMap(({ loa, mosquitto }) => [
    ...(loa ? [row(loa.devices, 'Loa', String(loa.postMs), loa.receipt, loa.received, loa.acksRecordedMs, loa.recorded, loa.cpu, loa.background)] : []),
    ...(mosquitto
      ? [row(mosquitto.devices, `Mosquitto ${mosquittoVersion}`, '—', mosquitto.receipt, mosquitto.received, mosquitto.acksReceivedMs, mosquitto.acks, mosquitto.cpu, mosquitto.background)]
      : []),
  ]);
  const setup = `Machine: ${machine}; Node ${process.version}; clients: ${WORKERS} worker processes on the same cores, connected in batches of ${BATCH}; acks polled every ${POLL_MS} ms.`;
  const verdicts = runs.flatMap(({ loa }) => (loa && loa.devices >= 10_000 ? [verdict(loa)] : []));
  console.log(['', setup, '', ...header, ...rows, '', ...verdicts, ''].join('\n'));

  mkdirSync('bench/results', { recursive: true });
  const file = join('bench', 'results', `emergency-fanout-${date.slice(0, 10)}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date, machine, node: process.version, mosquitto: mosquittoVersion, workers: WORKERS, batch: BATCH, pollMs: POLL_MS,
        runs: runs.map(({ loa, mosquitto }) => ({ loa: loa && { ...loa, sample: undefined }, mosquitto })) },
      null,
      2,
    ),
  );
  if (values.record) {
    appendFileSync(
      'bench/RESULTS.md',
      ['', `## Emergency fan-out — ${date.slice(0, 16).replace('T', ' ')} UTC`, '', setup, '', ...header, ...rows, ''].join('\n'),
    );
  }
  log(`wrote ${file}${values.record ? ' and a table in bench/RESULTS.md' : ''}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[fanout] ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
