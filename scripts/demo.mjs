#!/usr/bin/env node
// Runs Loa with a live simulated fleet on a machine with Postgres and Redis but no Docker:
// creates the demo database, builds, starts Loa (HTTP 3000, MQTT 1884 so a local Mosquitto
// on 1883 is left alone) with the Bắc Kạn demo areas, then ~40 flaky simulated speakers that
// play a demo broadcast (a chime to all of Bắc Kạn every 2 minutes, first after 30 s).
import { spawn, execFileSync } from 'node:child_process';
import pg from 'pg';

const env = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/loa_demo',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: process.env.REDIS_PREFIX ?? 'loa_demo',
  PORT: process.env.PORT ?? '3000',
  MQTT_PORT: process.env.MQTT_PORT ?? '1884',
  ADMIN_USERNAME: process.env.ADMIN_USERNAME ?? 'admin',
  ADMIN_PASSWORD: process.env.ADMIN_PASSWORD ?? 'loa-demo-password',
  JWT_SECRET: process.env.JWT_SECRET ?? 'loa-demo-jwt-secret-not-for-production',
  SEED_DEMO_AREAS: 'true',
  HEARTBEAT_INTERVAL_S: process.env.HEARTBEAT_INTERVAL_S ?? '10',
  OFFLINE_GRACE_S: process.env.OFFLINE_GRACE_S ?? '15',
};
// The base of the media URLs the speakers download from.
env.PUBLIC_URL = process.env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT}`;
const speakers = process.env.DEMO_SPEAKERS ?? '40';

async function ensureDatabase(url) {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      console.log(`[demo] created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

function run(label, args) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      // The simulator labels its own lines; label only what does not carry it already.
      for (const line of lines) console.log(line.startsWith(label) ? line : `${label} ${line}`);
    });
  }
  return child;
}

async function waitReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Loa not ready at ${url} after ${timeoutMs / 1000} s`);
}

await ensureDatabase(env.DATABASE_URL);
console.log('[demo] building…');
execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
const loa = run('[loa]', ['dist/src/main.js']);
const children = [loa];
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
loa.once('exit', (code) => {
  console.log(`[demo] Loa exited (${code}); stopping`);
  stop();
  process.exitCode = code ?? 0;
});

await waitReady(`http://127.0.0.1:${env.PORT}/health/ready`, 60_000);
children.push(
  run('[sim]', [
    'dist/devices-sim/cli.js',
    '--count', speakers, '--area', '06', '--flaky',
    '--api', `http://127.0.0.1:${env.PORT}`, '--mqtt', `mqtt://127.0.0.1:${env.MQTT_PORT}`,
    '--username', env.ADMIN_USERNAME, '--password', env.ADMIN_PASSWORD,
    '--prefix', 'demo', '--fleet-file', 'devices-sim/.demo-fleet.json', '--demo-broadcast',
  ]),
);
console.log(`[demo] Loa is up: dashboard http://localhost:${env.PORT}/ and API docs http://localhost:${env.PORT}/api/docs (log in as ${env.ADMIN_USERNAME} / ${env.ADMIN_PASSWORD}),`);
console.log(`[demo] MQTT on port ${env.MQTT_PORT}; ${speakers} simulated speakers are connecting, then play a demo`);
console.log('[demo] broadcast every 2 minutes ("[sim] demo broadcast: … started, … finished"). Ctrl-C stops both.');
