/**
 * Loa under test: a fresh database migrated and provisioned by SQL before Loa boots (so
 * it loads every credential at start, as after a restart), then one or more Loa child
 * processes on free ports sharing that database and one Redis prefix, and the REST calls
 * an operator makes.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.js';
import { AppConfig } from '../src/config/app-config.js';
import { pcmWav } from '../devices-sim/wav.js';
import type { BenchDevice } from './fleet-worker.js';
import { deviceSecrets } from './secrets.js';
import { databaseUrl, dropRedisKeys, freePort, REDIS_URL, spawnWithFileLimit, stopProcess, waitFor, withAdmin } from './support.js';

const LOA_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const ADMIN = { username: 'admin', password: 'bench-admin-password' };
/** Not a GSO province (those stop at 96): 10 districts of 10 communes each under it. */
export const PROVINCE = '99';

/** Whether this build has cluster mode (issue 5 part 1): AppConfig then knows CLUSTER. */
export const clusterModeAvailable = (): boolean => 'CLUSTER' in new AppConfig();

export interface LoaInstance {
  baseUrl: string;
  mqttUrl: string;
  pid: number;
  child: ChildProcess;
}

export class LoaDeployment {
  readonly instances: LoaInstance[] = [];
  readonly operator: Operator;
  readonly db: pg.Client;

  private constructor(
    private readonly database: string,
    readonly redisPrefix: string,
    private readonly mediaDir: string,
  ) {
    this.db = new pg.Client({ connectionString: databaseUrl(database) });
    this.operator = new Operator();
  }

  /**
   * A fresh database named `database`, migrated and holding `devices` devices spread over
   * the communes of province 99, then `instances` Loa processes (CLUSTER=true when more
   * than one). `env` overrides Loa's configuration.
   *
   * `provision: 'before-boot'` is a restart: Loa loads every credential and publishes every
   * device's retained config at boot, and each SUBSCRIBE then scans all retained messages
   * (the in-memory Aedes persistence matches every pattern against every retained topic), so
   * connecting N devices costs O(N²). 'after-boot' inserts them once Loa runs: no retained
   * config exists for them, credentials load on first CONNECT, and connecting is quick —
   * for the scenarios that measure something else.
   */
  static async start(options: {
    database: string;
    devices: number;
    provision: 'before-boot' | 'after-boot';
    instances?: number;
    env?: Record<string, string>;
  }): Promise<{ loa: LoaDeployment; devices: BenchDevice[] }> {
    const { database, instances = 1, env = {} } = options;
    await withAdmin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await c.query(`CREATE DATABASE "${database}"`);
    });
    const schema = new DataSource(dataSourceOptions(databaseUrl(database)));
    await schema.initialize();
    await schema.runMigrations();
    await schema.destroy();
    const loa = new LoaDeployment(database, `${database}_${Date.now()}`, mkdtempSync(join(tmpdir(), 'loa-bench-media-')));
    try {
      await loa.db.connect();
      const early = options.provision === 'before-boot' ? await provision(loa.db, options.devices) : null;
      for (let i = 0; i < instances; i++) {
        await loa.boot({ ...(instances > 1 ? { CLUSTER: 'true' } : {}), ...env }, i);
      }
      loa.operator.baseUrl = loa.instances[0].baseUrl;
      await loa.operator.login();
      // Before any device tries to connect: Loa remembers unknown codes for a while.
      const devices = early ?? (await provision(loa.db, options.devices));
      return { loa, devices };
    } catch (err) {
      await loa.stop();
      throw err;
    }
  }

  get pids(): number[] {
    return this.instances.map((i) => i.pid);
  }

  private async boot(env: Record<string, string>, index: number): Promise<void> {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const child = spawnWithFileLimit(
      process.execPath,
      [LOA_MAIN],
      {
        DATABASE_URL: databaseUrl(this.database),
        REDIS_URL,
        REDIS_PREFIX: this.redisPrefix,
        PORT: String(httpPort),
        MQTT_PORT: String(mqttPort),
        MQTT_HOST: '127.0.0.1',
        BROKER_ID: `bench-${index}`,
        PUBLIC_URL: baseUrl,
        MEDIA_DIR: this.mediaDir,
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        JWT_SECRET: 'bench-jwt-secret-0123456789',
        JWT_TTL_S: String(4 * 3600),
        LOG_LEVEL: 'warn',
        ...env,
      },
      `[loa${index}]`,
    );
    const instance = { baseUrl, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, pid: child.pid!, child };
    this.instances.push(instance);
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`Loa ${index} exited (${code}) while booting`))));
    await Promise.race([exited, waitFor(`Loa ${index} ready`, async () => (await fetch(`${baseUrl}/health/ready`)).ok, 120_000, 500)]);
  }

  /** How many devices Postgres holds in `state`. */
  async countState(state: 'online' | 'offline'): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM devices WHERE state = $1`, [state]);
    return rows[0].n;
  }

  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => stopProcess(i.child)));
    await this.db.end().catch(() => undefined);
    rmSync(this.mediaDir, { recursive: true, force: true });
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`)).catch(() => undefined);
    await dropRedisKeys(this.redisPrefix);
  }
}

/** Province 99 (10 districts × 10 communes) and `n` devices `bench-00000`… spread evenly over its communes. */
async function provision(db: pg.Client, n: number): Promise<BenchDevice[]> {
  const secrets = await deviceSecrets(n);
  await db.query(
    `WITH p AS (INSERT INTO areas (code, name, level, path) VALUES ($1::varchar, 'Bench province', 'province', '/' || $1::varchar || '/') RETURNING id, code, path),
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
     SELECT 'bench-' || lpad((s.i - 1)::text, 5, '0'), 'Bench speaker ' || (s.i - 1), c.id, s.hash, now()
     FROM unnest($1::text[]) WITH ORDINALITY AS s(hash, i)
     JOIN (SELECT id, row_number() OVER (ORDER BY code) - 1 AS k, count(*) OVER () AS n FROM areas WHERE level = 'commune') c
       ON c.k = (s.i - 1) % c.n`,
    [secrets.map((s) => s.hash)],
  );
  const rows = await db.query<{ code: string; path: string }>(`SELECT d.code, a.path FROM devices d JOIN areas a ON a.id = d.area_id ORDER BY d.code`);
  return rows.rows.map((r, i) => ({ code: r.code, secret: secrets[i].secret, areaCodes: r.path.split('/').filter(Boolean) }));
}

/** The same devices as `provision` makes, for brokers that take anyone (Mosquitto). */
export function anonymousDevices(n: number): BenchDevice[] {
  return Array.from({ length: n }, (_, i): BenchDevice => {
    const commune = i % 100;
    const district = `${PROVINCE}${Math.floor(commune / 10)}`;
    return { code: `bench-${String(i).padStart(5, '0')}`, secret: '', areaCodes: [PROVINCE, district, `${district}${String(commune % 10).padStart(2, '0')}`] };
  });
}

/** The REST calls an operator makes, with the admin's token. */
export class Operator {
  baseUrl = '';
  private token = '';

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

  /** An approved disaster bulletin of a generated 30 s WAV, ready to broadcast. */
  async approvedBulletin(): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pcmWav(30_000, () => 0))], { type: 'audio/wav' }), 'evacuation.wav');
    form.append('title', 'Benchmark alert');
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
}
