/**
 * Heartbeat ingest: N connected devices heartbeat at a fleet-wide rate that steps up
 * until Loa stops keeping up. Every heartbeat carries its send time as `seq`, so the
 * telemetry Loa stores says how late it was handled (ingest lag: last_seen_at − seq) and
 * how fresh Postgres is (persist lag: now − newest last_seen_at); the BullMQ telemetry
 * queue must not grow. The first step is the real load, N × 1 per 30 s, where Loa's CPU
 * is what is asked.
 */
import { Redis } from 'ioredis';
import { Fleet, splitEvenly } from '../fleet.js';
import { LoaDeployment } from '../loa.js';
import { cpuMeter, log, procStat, REDIS_URL, round, settle, sleep, waitFor, type CpuShares } from '../support.js';
import { PROVISIONED_AFTER_BOOT, table, verdict, type Scenario } from './scenario.js';

const TELEMETRY_FLUSH_MS = 2000;
const INTERVAL_S = 30;
/** A step keeps up when, over its second half, ingest lag stays under this, */
const MAX_INGEST_LAG_MS = 2000;
/** Postgres is no staler than a flush plus this, */
const MAX_PERSIST_SLACK_MS = 3000;
/** and the telemetry queue holds no more than this many batches. */
const MAX_QUEUED = 3;

interface Sample {
  ingestLagMs: number;
  persistLagMs: number;
  queued: number;
}

interface Step {
  targetPerS: number;
  sentPerS: number;
  seconds: number;
  maxIngestLagMs: number;
  maxPersistLagMs: number;
  maxQueued: number;
  online: number;
  cpu: CpuShares;
  rssMiB: number;
  keptUp: boolean;
}

async function sample(loa: LoaDeployment, redis: Redis): Promise<Sample> {
  // Ingest lag over the rows of the newest few flushes; staleness of the newest row of all.
  const { rows } = await loa.db.query<{ ingest: number | null; persist: number }>(
    `WITH newest AS (SELECT max(last_seen_at) AS at FROM devices)
     SELECT max(extract(epoch FROM d.last_seen_at) * 1000 - (d.telemetry->>'seq')::float8)::float8 AS ingest,
            (extract(epoch FROM clock_timestamp() - newest.at) * 1000)::float8 AS persist
       FROM devices d, newest
      WHERE d.last_seen_at > newest.at - interval '3 seconds'
      GROUP BY newest.at`,
  );
  const bull = `${loa.redisPrefix}:bull:telemetry`;
  const [wait, active] = await Promise.all([redis.llen(`${bull}:wait`), redis.llen(`${bull}:active`)]);
  return { ingestLagMs: rows[0]?.ingest ?? NaN, persistLagMs: rows[0]?.persist ?? NaN, queued: wait + active };
}

async function step(loa: LoaDeployment, fleet: Fleet, redis: Redis, perSecond: number, seconds: number, n: number): Promise<Step> {
  const pid = loa.pids[0];
  fleet.heartbeats(perSecond);
  // Let the first batches through before measuring.
  await sleep(TELEMETRY_FLUSH_MS + 1000);
  const sent0 = (await fleet.reports()).reduce((s, r) => s + r.heartbeatsSent, 0);
  const meter = cpuMeter([pid], fleet.pids);
  const t0 = Date.now();
  const samples: Sample[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1000);
    samples.push(await sample(loa, redis));
  }
  const cpu = meter();
  const elapsed = (Date.now() - t0) / 1000;
  const sent = (await fleet.reports()).reduce((s, r) => s + r.heartbeatsSent, 0) - sent0;
  const late = samples.slice(Math.floor(samples.length / 2));
  // A sample with no figure (nothing stored yet) counts as not keeping up.
  const max = (k: keyof Sample) => Math.max(...late.map((s) => (Number.isNaN(s[k]) ? Infinity : s[k])));
  const result = {
    targetPerS: round(perSecond),
    sentPerS: round(sent / elapsed),
    seconds: round(elapsed),
    maxIngestLagMs: Math.round(max('ingestLagMs')),
    maxPersistLagMs: Math.round(max('persistLagMs')),
    maxQueued: max('queued'),
    online: await loa.countState('online'),
    cpu,
    rssMiB: round(procStat(pid).rssBytes / 2 ** 20),
    keptUp: false,
  };
  result.keptUp =
    result.maxIngestLagMs < MAX_INGEST_LAG_MS &&
    result.maxPersistLagMs < TELEMETRY_FLUSH_MS + MAX_PERSIST_SLACK_MS &&
    result.maxQueued <= MAX_QUEUED &&
    result.online === n;
  log(`heartbeats: ${JSON.stringify(result)}`);
  return result;
}

export const heartbeatIngest: Scenario = {
  name: 'heartbeat',
  title: 'Heartbeat ingest',
  async run(args) {
    const n = args.devices?.[0] ?? (args.quick ? 1000 : 10_000);
    const steadyS = args.quick ? 20 : 60;
    const stepS = args.quick ? 10 : 20;
    const ramp = [1000, 2000, 4000, 8000, 16_000, 32_000].filter((r) => r > n / INTERVAL_S);
    const { loa, devices } = await LoaDeployment.start({
      database: 'loa_bench_heartbeat',
      devices: n,
      provision: 'after-boot',
      env: { HEARTBEAT_INTERVAL_S: String(INTERVAL_S), TELEMETRY_FLUSH_MS: String(TELEMETRY_FLUSH_MS) },
    });
    const fleet = new Fleet(splitEvenly(devices, args.workers));
    const redis = new Redis(REDIS_URL);
    const steps: Step[] = [];
    try {
      await fleet.connect([loa.instances[0].mqttUrl], { concurrency: args.concurrency });
      await waitFor(`${n} devices online`, async () => (await loa.countState('online')) >= n, 10 * 60_000, 500);
      await settle(loa.pids[0]);
      steps.push(await step(loa, fleet, redis, n / INTERVAL_S, steadyS, n));
      for (const rate of ramp) {
        const s = await step(loa, fleet, redis, rate, stepS, n);
        steps.push(s);
        // The clients could not send faster: a higher target would measure them, not Loa.
        if (!s.keptUp || s.sentPerS < 0.9 * s.targetPerS) break;
      }
    } finally {
      fleet.heartbeats(0);
      redis.disconnect();
      await fleet.stop();
      await loa.stop();
    }
    const steady = steps[0];
    const sustained = Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.sentPerS));
    const last = steps[steps.length - 1];
    const clientBound = last.keptUp && last.sentPerS < 0.9 * last.targetPerS;
    return {
      options: { devices: n, steadySeconds: steadyS, stepSeconds: stepS, workers: args.workers },
      data: { steps, sustainedPerS: sustained, clientBound },
      markdown: [
        `${n} devices connected; heartbeat interval ${INTERVAL_S} s, telemetry flushed every ${TELEMETRY_FLUSH_MS} ms. The first row is the real load (${n} × 1 per ${INTERVAL_S} s, ${steadyS} s window), then the fleet-wide rate steps up (${stepS} s each) until a step does not keep up. Lags and queue depth are the worst of the second half of each step, sampled every second. A step keeps up when ingest lag < ${MAX_INGEST_LAG_MS} ms, Postgres staleness < ${TELEMETRY_FLUSH_MS + MAX_PERSIST_SLACK_MS} ms, ≤ ${MAX_QUEUED} telemetry batches queued and all devices stay online. ${PROVISIONED_AFTER_BOOT}`,
        '',
        table(
          ['target (heartbeats/s)', 'sent (/s)', 'ingest lag max (ms)', 'Postgres staleness max (ms)', 'queued batches max', 'online', 'CPU Loa / clients / rest (% of a core)', 'Loa RSS (MiB)', 'kept up'],
          ['---:', '---:', '---:', '---:', '---:', '---:', '---', '---:', '---'],
          steps.map((s) => [s.targetPerS, s.sentPerS, s.maxIngestLagMs, s.maxPersistLagMs, s.maxQueued, `${s.online} / ${n}`, `${s.cpu.server} / ${s.cpu.clients} / ${s.cpu.rest}`, s.rssMiB, s.keptUp ? 'yes' : 'NO']),
        ),
        '',
        `- Loa's CPU at ${n} devices × 1 per ${INTERVAL_S} s: ${steady.cpu.server}% of one core (${steady.keptUp ? 'kept up' : 'did NOT keep up'}).`,
        `- Sustained: ${sustained} heartbeats/s kept up${clientBound ? ' — the clients could not send faster, so this is a lower bound' : ''}; ${verdict(steady.keptUp)} for the real load (no target figure in the issue beyond "no growing lag").`,
      ].join('\n'),
    };
  },
};
