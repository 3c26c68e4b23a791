/**
 * Connect storm: N provisioned devices connect with their real credentials as fast as the
 * clients can open connections (every CONNECT verified by scrypt, as after a restart of
 * Loa); again onto two instances in cluster mode (a restart of a cluster); then the same
 * clients against Mosquitto, anonymous. Connects/s, Loa's RSS per connected device, and the
 * time until Postgres lists them all online.
 */
import { execFileSync } from 'node:child_process';
import { epochNow } from '../clock.js';
import { Fleet, splitEvenly } from '../fleet.js';
import type { WorkerReport } from '../fleet-worker.js';
import { anonymousDevices, clusterModeAvailable, LoaDeployment } from '../loa.js';
import { startMosquitto } from '../mosquitto.js';
import { backgroundLoad, cpuMeter, log, procStat, round, settle, waitFor, type CpuShares } from '../support.js';
import { table, verdict, type Scenario, type ScenarioArgs } from './scenario.js';

interface StormRun {
  broker: string;
  devices: number;
  /** First CONNECT sent → last CONNACK. */
  connectS: number;
  connectsPerS: number;
  /** Connects/s over the first and over the last tenth of the devices to get their CONNACK. */
  firstTenthPerS: number;
  lastTenthPerS: number;
  /** First CONNECT sent → Postgres lists every device online (Loa only). */
  allOnlineS: number | null;
  idleRssMiB: number;
  rssMiB: number;
  rssKiBPerDevice: number;
  cpu: CpuShares;
  background: number;
}

/** As many devices as one process may hold sockets for, less room for its other files. */
function fdBudget(): number {
  const hard = Number(execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  return Math.max(1000, Math.floor((hard - 1000) / 1000) * 1000);
}

const connacks = (reports: WorkerReport[]) => reports.flatMap((r) => r.connackAt.filter((t) => !Number.isNaN(t))).sort((a, b) => a - b);

/** The brokers' resident memory together (two instances in cluster mode). */
const rssOf = (pids: number[]) => pids.reduce((sum, pid) => sum + procStat(pid).rssBytes, 0);

async function storm(broker: string, pids: number[], fleet: Fleet, url: string[], args: ScenarioArgs, n: number) {
  const background = await backgroundLoad([...pids, ...fleet.pids]);
  const idle = rssOf(pids);
  const meter = cpuMeter(pids, fleet.pids);
  const sentAt = epochNow();
  await fleet.connect(url, { concurrency: args.concurrency });
  const at = connacks(await fleet.reports());
  const connectS = (at[at.length - 1] - sentAt) / 1000;
  const tenth = Math.max(1, Math.floor(at.length / 10));
  const firstTenthPerS = tenth / ((at[tenth - 1] - sentAt) / 1000);
  const lastTenthPerS = tenth / Math.max(0.001, (at[at.length - 1] - at[at.length - tenth]) / 1000);
  log(`${broker}: ${n} connected in ${connectS.toFixed(1)} s`);
  return { background, idle, meter, sentAt, connectS, firstTenthPerS, lastTenthPerS };
}

async function measure(broker: string, pids: number[], n: number, s: Awaited<ReturnType<typeof storm>>, allOnlineS: number | null): Promise<StormRun> {
  const cpu = s.meter();
  for (const pid of pids) await settle(pid);
  const rss = rssOf(pids);
  return {
    broker,
    devices: n,
    connectS: round(s.connectS),
    connectsPerS: Math.round(n / s.connectS),
    firstTenthPerS: Math.round(s.firstTenthPerS),
    lastTenthPerS: Math.round(s.lastTenthPerS),
    allOnlineS: allOnlineS === null ? null : round(allOnlineS),
    idleRssMiB: round(s.idle / 2 ** 20),
    rssMiB: round(rss / 2 ** 20),
    rssKiBPerDevice: round((rss - s.idle) / 1024 / n),
    cpu,
    background: s.background,
  };
}

/** One instance, or two in cluster mode with the client processes alternating between them. */
async function runLoa(n: number, args: ScenarioArgs, instances: 1 | 2): Promise<StormRun> {
  const { loa, devices } = await LoaDeployment.start({ database: 'loa_bench_storm', devices: n, provision: 'before-boot', instances });
  const fleet = new Fleet(splitEvenly(devices, args.workers));
  const broker = instances === 1 ? 'Loa' : 'Loa × 2, cluster mode';
  try {
    for (const pid of loa.pids) await settle(pid);
    const s = await storm(broker, loa.pids, fleet, loa.instances.map((i) => i.mqttUrl), args, n);
    await waitFor(`${n} devices online in Postgres`, async () => (await loa.countState('online')) >= n, 10 * 60_000, 250);
    return await measure(broker, loa.pids, n, s, (epochNow() - s.sentAt) / 1000);
  } finally {
    await fleet.stop();
    await loa.stop();
  }
}

async function runMosquitto(n: number, args: ScenarioArgs): Promise<StormRun> {
  const mosquitto = await startMosquitto();
  const fleet = new Fleet(splitEvenly(anonymousDevices(n), args.workers));
  try {
    const s = await storm('Mosquitto', [mosquitto.pid], fleet, [mosquitto.url], args, n);
    return await measure('Mosquitto', [mosquitto.pid], n, s, null);
  } finally {
    await fleet.stop();
    await mosquitto.stop();
  }
}

export const connectStorm: Scenario = {
  name: 'storm',
  title: 'Connect storm',
  async run(args) {
    const counts = args.devices ?? [args.quick ? 1000 : fdBudget()];
    const cluster = clusterModeAvailable();
    const runs: { loa: StormRun; cluster: StormRun | null; mosquitto: StormRun }[] = [];
    for (const n of counts) {
      log(`connect storm: ${n} devices`);
      const loa = await runLoa(n, args, 1);
      if (cluster) log(`connect storm: ${n} devices, two instances in cluster mode`);
      runs.push({ loa, cluster: cluster ? await runLoa(n, args, 2) : null, mosquitto: await runMosquitto(n, args) });
    }
    const rows = runs.flatMap(({ loa, cluster, mosquitto }) =>
      [loa, ...(cluster ? [cluster] : []), mosquitto].map((r) => [
        r.devices,
        r.broker,
        r.connectS,
        r.connectsPerS,
        `${r.firstTenthPerS} / ${r.lastTenthPerS}`,
        r === mosquitto ? '1' : round(r.connectsPerS / mosquitto.connectsPerS, 2),
        r.allOnlineS ?? '—',
        `${r.idleRssMiB} → ${r.rssMiB}`,
        r.rssKiBPerDevice,
        `${r.cpu.server} / ${r.cpu.clients} / ${r.cpu.rest}`,
        r.background,
      ]),
    );
    const verdicts = runs.map(({ loa }) => {
      const outcome = loa.devices < 10_000 ? 'not judged (fewer than 10,000 devices)' : verdict(loa.rssMiB < 1024);
      return `- ≥ 10,000 devices per instance under 1 GiB RSS: ${loa.devices} devices held at ${loa.rssMiB} MiB — ${outcome}.`;
    });
    return {
      options: { devices: counts, workers: args.workers, concurrency: args.concurrency, cluster },
      data: runs,
      markdown: [
        `A restart: devices provisioned in Postgres before Loa boots, each with its own secret (scrypt, the device cost profile), so Loa loads every credential and publishes every device's retained config at boot. ` +
        `All N configs are retained from the start; each SUBSCRIBE finds its retained messages by exact topic (retained-topic-index.ts), so a connect costs the same whatever the fleet's size. Most of a connect is the scrypt check of its secret. ` +
        `${args.workers} client processes on the same cores, ${args.concurrency} CONNECTs in flight in each; every client subscribes QoS 1 to its own and its 3 areas' command topics after CONNACK. Mosquitto takes the same clients without credentials. ` +
        (cluster
          ? `Loa × 2: CLUSTER=true, both instances on the same cores and the same Postgres and Redis, client processes alternating between them; the retained configs live in Redis (published by the first instance to boot), and RSS is the two instances' sum.`
          : '**Two instances not run: this build has no cluster mode.**'),
        '',
        table(
          ['devices', 'broker', 'connect (s)', 'connects/s', 'connects/s first / last tenth', 'ratio to Mosquitto', 'all online in Postgres (s)', 'RSS idle → connected (MiB)', 'RSS per device (KiB)', 'CPU broker / clients / rest (% of a core)', 'background before (% of a core)'],
          ['---:', '---', '---:', '---:', '---', '---:', '---:', '---', '---:', '---', '---:'],
          rows,
        ),
        '',
        ...verdicts,
      ].join('\n'),
    };
  },
};
