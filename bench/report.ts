/**
 * Where results go: one JSON file per scenario run in bench/results/, and a section
 * appended to bench/RESULTS.md that names the machine, the versions and the date.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MOSQUITTO } from './mosquitto.js';
import { REDIS_URL, withAdmin } from './support.js';

export interface Environment {
  date: string;
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  postgres: string;
  redis: string;
  mosquitto: string;
  /** 1-minute load average when the scenario started: other work sharing the machine. */
  loadBefore: number;
  /** The machine's CPU ticks when the scenario started, to tell how much the hypervisor took during it. */
  ticksBefore: MachineTicks;
}

/** The whole machine's CPU time in ticks (/proc/stat), and the part of it the hypervisor gave to other guests. */
export interface MachineTicks {
  total: number;
  steal: number;
}

function machineTicks(): MachineTicks {
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user and nice.
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((sum, t) => sum + t, 0), steal: fields[7] ?? 0 };
}

/**
 * Steal time: the share of the run in which this VM's virtual CPUs were ready but the host ran
 * something else. A run on a busy host is slower in every setup, and not always in the same
 * proportion, so its ratios say less; this is the one sign of it a guest can read.
 */
function stealPercentSince(before: MachineTicks): number {
  const now = machineTicks();
  const total = now.total - before.total;
  return total > 0 ? Math.round(((now.steal - before.steal) / total) * 1000) / 10 : 0;
}

export async function environment(): Promise<Environment> {
  const postgres = await withAdmin(async (c) => (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v).catch(() => '?');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const redisVersion = await redis
    .connect()
    .then(() => redis.info('server'))
    .then((info) => /redis_version:(\S+)/.exec(info)?.[1] ?? '?')
    .catch(() => '?')
    .finally(() => redis.disconnect());
  // `mosquitto -h` prints its version and exits 3.
  const mosquitto = /version (\S+)/.exec(spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'not installed';
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    redis: redisVersion,
    mosquitto,
    loadBefore: Math.round(loadavg()[0] * 100) / 100,
    ticksBefore: machineTicks(),
  };
}

function describeEnvironment(env: Environment, stealPercent: number): string {
  return (
    `${env.date.slice(0, 16).replace('T', ' ')} UTC — ${env.cores} × ${env.cpu}, ${env.ramGiB} GiB; Node ${env.node}, ` +
    `PostgreSQL ${env.postgres}, Redis ${env.redis}, Mosquitto ${env.mosquitto}, all on this machine; ` +
    `load average before: ${env.loadBefore}; hypervisor steal during the run: ${stealPercent} % of the machine's CPU time.`
  );
}

/** What a scenario hands back: its figures for the JSON file and its section for RESULTS.md. */
export interface ScenarioOutcome {
  options: Record<string, unknown>;
  data: unknown;
  /** Markdown: the table(s) and one line per target, met or missed. */
  markdown: string;
}

const RESULTS_DIR = join('bench', 'results');
const RESULTS_MD = join('bench', 'RESULTS.md');

export function record(scenario: string, title: string, env: Environment, outcome: ScenarioOutcome): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stealPercent = stealPercentSince(env.ticksBefore);
  const file = join(RESULTS_DIR, `${scenario}-${env.date.slice(0, 19).replace(/[:T]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ scenario, environment: { ...env, stealPercent }, options: outcome.options, result: outcome.data }, null, 2) + '\n');
  if (!existsSync(RESULTS_MD)) writeFileSync(RESULTS_MD, '# Benchmark results\n');
  const options = Object.entries(outcome.options)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
  appendFileSync(
    RESULTS_MD,
    ['', `## ${title} — ${env.date.slice(0, 16).replace('T', ' ')} UTC`, '', describeEnvironment(env, stealPercent), `Options: \`${options}\`; raw figures: \`${file}\`.`, '', outcome.markdown.trim(), ''].join('\n'),
  );
  return file;
}
