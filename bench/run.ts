/**
 * The benchmark suite: `npm run bench` builds, then runs every scenario; one of them with
 * `npm run bench -- --scenario fanout` (comma-separated or repeated for several).
 *
 *   --scenario storm|heartbeat|fanout|offline|schedule
 *   --quick          small sizes, to try the suite on a busy machine
 *   --devices N[,M]  device count(s) for the scenarios run
 *   --workers W      client processes (default 2)
 *   --concurrency C  CONNECTs in flight per client process (default 250)
 *
 * Each scenario writes bench/results/<scenario>-<date>.json and appends a section to
 * bench/RESULTS.md with the machine, the versions and the date.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { environment, record } from './report.js';
import { connectStorm } from './scenarios/connect-storm.js';
import { emergencyFanout } from './scenarios/emergency-fanout.js';
import { heartbeatIngest } from './scenarios/heartbeat-ingest.js';
import { offlineDetection } from './scenarios/offline-detection.js';
import type { Scenario } from './scenarios/scenario.js';
import { scheduleAccuracy } from './scenarios/schedule-accuracy.js';
import { killChildren, log } from './support.js';

const SCENARIOS: Scenario[] = [connectStorm, heartbeatIngest, emergencyFanout, offlineDetection, scheduleAccuracy];

/**
 * Node cannot raise its own open-files limit: run again under a shell that raised the soft
 * limit to the hard one. The client workers inherit it; Loa and Mosquitto get theirs the same way.
 */
function ensureFileLimit(): void {
  const [soft, hard] = execFileSync('bash', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
  if (soft === hard || process.env.LOA_BENCH_LIMIT_RAISED) return;
  const child = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LOA_BENCH_LIMIT_RAISED: '1' },
  });
  process.exit(child.status ?? 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      devices: { type: 'string' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '250' },
    },
  });
  const names = (values.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const unknown = names.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const devices = values.devices ? values.devices.split(',').map(Number) : null;
  if (devices?.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--devices must be positive integers, got ${values.devices}`);
  const args = { quick: values.quick, devices, workers: Number(values.workers), concurrency: Number(values.concurrency) };
  ensureFileLimit();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: ending Loa, the brokers and the clients (their databases and Redis keys stay)`);
      killChildren();
      process.exit(130);
    });
  }
  for (const scenario of chosen) {
    const env = await environment();
    log(`${scenario.title} (load average ${env.loadBefore})`);
    const outcome = await scenario.run(args);
    const file = record(scenario.name, scenario.title, env, outcome);
    console.log(`\n${outcome.markdown}\n`);
    log(`wrote ${file} and a section in bench/RESULTS.md`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
