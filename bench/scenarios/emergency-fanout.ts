/**
 * Emergency fan-out: an emergency `now` broadcast to every device of a province, from the
 * POST to each device's receipt of the `play` and to all acks recorded in Postgres; for
 * one instance and (cluster mode) two with the devices split across them; each also with
 * 1% of the devices frozen (their client process SIGSTOPped after they subscribed:
 * connected, not reading) — the others must not wait for them. The same clients and the
 * same bytes through Mosquitto are the raw-broker reference, in the same run.
 */
import mqtt from 'mqtt';
import { areaCommandsTopic } from '../../src/broker/topics.js';
import { epochNow, type EpochMs } from '../clock.js';
import { Fleet, splitEvenly } from '../fleet.js';
import type { BenchDevice, WorkerReport } from '../fleet-worker.js';
import { anonymousDevices, clusterModeAvailable, LoaDeployment, PROVINCE } from '../loa.js';
import { startMosquitto } from '../mosquitto.js';
import { backgroundLoad, cpuMeter, cpuTimeline, log, round, settle, showSpread, sleep, spread, waitFor, type CpuShares, type CpuTimeline, type Spread } from '../support.js';
import { PROVISIONED_AFTER_BOOT, table, verdict, type Scenario, type ScenarioArgs } from './scenario.js';

const POLL_MS = 50;
/**
 * Emergencies sent one after another to the same connected fleet. On two shared cores one
 * round's max varies by ±20 % (Mosquitto's too), so each setup is measured several times
 * and its median round stands for it; every round's max is reported.
 */
const ROUNDS = 3;
/** Long enough that no speaker times out (3 intervals) while a large fleet connects and the rounds run. */
const HEARTBEAT_INTERVAL_S = 3600;
/** From the POST to the last ack, after which a run is called incomplete. */
const RUN_TIMEOUT_MS = 60_000;

/** One emergency, from its send. */
interface FanoutRound {
  /** The POST's response arrived this long after it was sent (Loa only). */
  postMs: number | null;
  /** Receipts of the devices that were not frozen, from the send. */
  receipt: Spread;
  /**
   * The same for each live client process, so that a late tail can be placed: with two
   * instances, client process i is connected to instance i % 2 + 1.
   */
  receiptByClient: Spread[];
  /** All acks of the non-frozen devices recorded in Postgres (Loa) or heard by one subscriber (Mosquitto). */
  acksMs: number | null;
  acks: number;
  duplicates: number;
  /**
   * CPU spent from the send until the round was complete (Loa: every ack stored; Mosquitto:
   * every ack heard), by the broker process(es) and by the client processes, in ms. Unlike
   * receipt times, this does not depend on how the two cores were shared at the time.
   */
  cpuMs: { broker: number; clients: number };
  /**
   * The same, from the send to the last receipt only: what the broker(s) took from the
   * cores while the client processes still had plays to read.
   */
  receiptCpuMs: { broker: number; clients: number };
}

/** A setup's median round (by receipt max), with every round's max. */
interface FanoutRun extends FanoutRound {
  broker: string;
  devices: number;
  instances: number;
  frozen: number;
  roundMaxes: number[];
  /** Frozen devices that had the play by the end of the run (they read nothing while frozen). */
  frozenReceived: number;
  cpu: CpuShares;
  background: number;
  sample: string | null;
}

function medianRound(rounds: FanoutRound[]): FanoutRound {
  return [...rounds].sort((x, y) => x.receipt.max - y.receipt.max)[Math.floor(rounds.length / 2)];
}

/** The devices in `workers` groups, plus 1% in a group of their own (the last) when `frozen`. */
function groupsOf(devices: BenchDevice[], workers: number, frozen: boolean): BenchDevice[][] {
  if (!frozen) return splitEvenly(devices, workers);
  const k = Math.max(1, Math.round(devices.length / 100));
  return [...splitEvenly(devices.slice(0, -k), workers), devices.slice(-k)];
}

function receipts(reports: WorkerReport[], sentAt: EpochMs) {
  return reports.flatMap((r) => r.receivedAt.filter((t) => !Number.isNaN(t)).map((t) => t - sentAt));
}

/** A timeline's two groups, broker(s) then clients. */
const cpuOf = ([broker, clients]: number[]) => ({ broker, clients });

function receiptsOf(
  reports: WorkerReport[],
  sentAt: EpochMs,
  timeline: CpuTimeline,
): Pick<FanoutRound, 'receipt' | 'receiptByClient' | 'receiptCpuMs'> {
  const receipt = spread(receipts(reports, sentAt));
  return { receipt, receiptByClient: reports.map((r) => spread(receipts([r], sentAt))), receiptCpuMs: cpuOf(timeline.until(sentAt + receipt.max)) };
}

/** p99 / max of each client process, with the instance it was connected to when there were two (Fleet.connect: group i to instance i % n). */
function perClient(run: FanoutRun): string {
  const instanceOf = (i: number) => (run.instances > 1 ? ` (instance ${(i % run.instances) + 1})` : '');
  return run.receiptByClient.map((c, i) => `${c.p99} / ${c.max}${instanceOf(i)}`).join(', ');
}

async function runLoa(n: number, instances: number, frozen: boolean, args: ScenarioArgs): Promise<FanoutRun> {
  const { loa, devices } = await LoaDeployment.start({
    database: 'loa_bench_fanout',
    devices: n,
    provision: 'after-boot',
    instances,
    // These speakers send no heartbeats. At the default interval (30 s) Loa takes a speaker
    // offline 90 s after its connect, which the first ones reach before the last of 19,000
    // have connected to two instances: "all online" then never holds.
    env: { HEARTBEAT_INTERVAL_S: String(HEARTBEAT_INTERVAL_S) },
  });
  const groups = groupsOf(devices, args.workers, frozen);
  const live = frozen ? groups.length - 1 : groups.length;
  const liveDevices = groups.slice(0, live).reduce((s, g) => s + g.length, 0);
  const fleet = new Fleet(groups);
  try {
    const bulletinId = await loa.operator.approvedBulletin();
    // Group i connects to instance i % instances; the frozen group goes to the first.
    await fleet.connect(loa.instances.map((i) => i.mqttUrl), { concurrency: args.concurrency });
    await waitFor(`${n} devices online`, async () => (await loa.countState('online')) >= n, 10 * 60_000, 500);
    for (const pid of loa.pids) await settle(pid);
    if (frozen) fleet.signal(live, 'SIGSTOP');
    const background = await backgroundLoad([...loa.pids, ...fleet.pids]);
    const meter = cpuMeter(loa.pids, fleet.pids);
    const liveGroups = groups.slice(0, live).map((_, i) => i);
    const rounds: FanoutRound[] = [];
    let previous: string | null = null;
    let recordedAt: EpochMs | null = null;
    let sample: string | null = null;
    for (let i = 0; i < ROUNDS; i++) {
      if (previous) {
        // The last play still runs (30 s): a new emergency over it would be refused as a same-priority overlap.
        await loa.operator.call('POST', `/api/v1/broadcasts/${previous}/cancel`);
        await fleet.reset(liveGroups);
        for (const pid of loa.pids) await settle(pid);
      }
      await fetch(`${loa.operator.baseUrl}/health`); // a warm keep-alive connection: the POST pays no handshake
      const timeline = cpuTimeline([loa.pids, fleet.pids]);
      const sentAt = epochNow();
      const created = await loa.operator.call<{ id: string }>('POST', '/api/v1/broadcasts', {
        bulletinId,
        targets: { areaCodes: [PROVINCE] },
        schedule: { kind: 'now' },
        priority: 'emergency',
      });
      const postMs = round(epochNow() - sentAt);
      previous = created.id;
      // Polled from the POST's answer on, by the broadcast's own occurrence (an index lookup).
      // A scan of every delivery each 50 ms while the play spread put the bench's own
      // queries on the cores the speakers were waiting for. Acks can be stored only once the
      // deliveries are written, which the POST waits for, so little is missed: at worst the
      // last acks land between that write and the answer, and are counted at the answer.
      let recorded = 0;
      recordedAt = null;
      const polling = (async () => {
        const deadline = Date.now() + RUN_TIMEOUT_MS;
        while (Date.now() < deadline) {
          const { rows } = await loa.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM deliveries
             WHERE occurrence_id IN (SELECT id FROM occurrences WHERE broadcast_id = $1) AND status = 'delivered'`,
            [created.id],
          );
          recorded = rows[0].n;
          if (recorded >= liveDevices) {
            timeline.stop();
            return void (recordedAt = epochNow());
          }
          await sleep(POLL_MS);
        }
      })();
      if (!(await fleet.allDone('acked', RUN_TIMEOUT_MS, liveGroups))) log(`not every live device received and acked within ${RUN_TIMEOUT_MS / 1000} s`);
      await polling;
      const reports = await fleet.reports(liveGroups);
      timeline.stop();
      sample ??= reports.find((r) => r.sample)?.sample ?? null;
      rounds.push({
        postMs,
        ...receiptsOf(reports, sentAt, timeline),
        acksMs: recordedAt === null ? null : round(recordedAt - sentAt),
        acks: recorded,
        duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
        cpuMs: cpuOf(timeline.spent()),
      });
    }
    const cpu = meter();
    let frozenReceived = 0;
    if (frozen) {
      fleet.signal(live, 'SIGCONT');
      const [report] = await fleet.reports([live]);
      frozenReceived = report.receivedAt.filter((t) => !Number.isNaN(t) && t < (recordedAt ?? Infinity)).length;
    }
    return {
      ...medianRound(rounds),
      broker: 'Loa',
      devices: n,
      instances,
      frozen: frozen ? groups[live].length : 0,
      roundMaxes: rounds.map((r) => r.receipt.max),
      frozenReceived,
      cpu,
      background,
      sample,
    };
  } finally {
    await fleet.stop();
    await loa.stop();
  }
}

async function runMosquitto(n: number, payload: string, args: ScenarioArgs): Promise<FanoutRun> {
  // One subscriber is sent every device's ack at once; Mosquitto's default queue (1000) would drop most.
  const mosquitto = await startMosquitto(2 * n + 1000);
  const fleet = new Fleet(splitEvenly(anonymousDevices(n), args.workers));
  const publisher = await mqtt.connectAsync(mosquitto.url, { clientId: 'bench-publisher', reconnectPeriod: 0 });
  const acker = await mqtt.connectAsync(mosquitto.url, { clientId: 'bench-acks', reconnectPeriod: 0 });
  try {
    let acks = 0;
    let acksAt: EpochMs | null = null;
    let timeline: CpuTimeline | null = null;
    acker.on('message', () => {
      if (++acks !== n) return;
      acksAt = epochNow();
      timeline?.stop();
    });
    await acker.subscribeAsync('loa/v1/devices/+/acks', { qos: 1 });
    await fleet.connect([mosquitto.url], { concurrency: args.concurrency });
    const background = await backgroundLoad([mosquitto.pid, ...fleet.pids]);
    const meter = cpuMeter([mosquitto.pid], fleet.pids);
    const rounds: FanoutRound[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i > 0) {
        await fleet.reset();
        await settle(mosquitto.pid);
      }
      acks = 0;
      acksAt = null;
      timeline = cpuTimeline([[mosquitto.pid], fleet.pids]);
      const sentAt = epochNow();
      publisher.publish(areaCommandsTopic(PROVINCE), payload, { qos: 1 });
      const complete = await fleet.allDone('acked', RUN_TIMEOUT_MS);
      await waitFor('all acks at the subscriber', async () => acks >= n, complete ? 10_000 : 0, 20).catch(() => undefined);
      const reports = await fleet.reports();
      timeline.stop();
      rounds.push({
        postMs: null,
        ...receiptsOf(reports, sentAt, timeline),
        acksMs: acksAt === null ? null : round(acksAt - sentAt),
        acks,
        duplicates: reports.reduce((s, r) => s + r.duplicates, 0),
        cpuMs: cpuOf(timeline.spent()),
      });
    }
    const cpu = meter();
    return {
      ...medianRound(rounds),
      broker: 'Mosquitto',
      devices: n,
      instances: 1,
      frozen: 0,
      roundMaxes: rounds.map((r) => r.receipt.max),
      frozenReceived: 0,
      cpu,
      background,
      sample: null,
    };
  } finally {
    await fleet.stop();
    await Promise.all([publisher.endAsync(true), acker.endAsync(true)]);
    await mosquitto.stop();
  }
}

export const emergencyFanout: Scenario = {
  name: 'fanout',
  title: 'Emergency fan-out',
  async run(args) {
    const counts = args.devices ?? (args.quick ? [500] : [1000, 10_000]);
    const cluster = clusterModeAvailable();
    const setups = [
      { instances: 1, frozen: false },
      { instances: 1, frozen: true },
      ...(cluster ? [{ instances: 2, frozen: false }, { instances: 2, frozen: true }] : []),
    ];
    const runs: FanoutRun[] = [];
    for (const n of counts) {
      let sample: string | null = null;
      for (const { instances, frozen } of setups) {
        log(`fan-out: ${n} devices, ${instances} instance(s)${frozen ? ', 1% frozen' : ''}`);
        const run = await runLoa(n, instances, frozen, args);
        sample ??= run.sample;
        runs.push(run);
      }
      log(`fan-out: ${n} devices through Mosquitto`);
      runs.push(await runMosquitto(n, sample!, args));
    }
    const reference = (n: number) => runs.find((r) => r.broker === 'Mosquitto' && r.devices === n)!;
    const label = (r: FanoutRun) => (r.broker === 'Loa' ? `Loa × ${r.instances}${r.frozen ? `, ${r.frozen} frozen` : ''}` : `Mosquitto (reference)`);
    const rows = runs.map((r) => [
      r.devices,
      label(r),
      r.postMs ?? '—',
      showSpread(r.receipt),
      r.roundMaxes.join(', '),
      `${r.receipt.n} / ${r.devices - r.frozen}`,
      r.broker === 'Loa' ? round(r.receipt.max / reference(r.devices).receipt.max, 2) : '1',
      r.acksMs === null ? `not reached (${r.acks})` : r.acksMs,
      r.frozen ? r.frozenReceived : '—',
      r.duplicates,
      `${r.cpuMs.broker} / ${r.cpuMs.clients}`,
      `${r.receiptCpuMs.broker} / ${r.receiptCpuMs.clients}`,
      `${r.cpu.server} / ${r.cpu.clients} / ${r.cpu.rest}`,
      r.background,
    ]);
    const verdicts = runs
      .filter((r) => r.broker === 'Loa' && r.devices >= 10_000)
      .map((r) => {
        const ratio = round(r.receipt.max / reference(r.devices).receipt.max, 2);
        const all = r.receipt.n === r.devices - r.frozen;
        return `- ${label(r)}, ${r.devices} devices: p99 ${r.receipt.p99} ms < 2 s — ${verdict(all && r.receipt.p99 < 2000)}; all reached in ${r.receipt.max} ms = ${ratio} × Mosquitto's ${reference(r.devices).receipt.max} ms (target ≤ 1.5×) — ${verdict(all && ratio <= 1.5)}. Median round, p99 / max per client process: ${perClient(r)} ms.`;
      });
    return {
      options: { devices: counts, workers: args.workers, concurrency: args.concurrency, cluster },
      data: runs.map((r) => ({ ...r, sample: undefined })),
      markdown: [
        `${ROUNDS} emergency \`now\` broadcasts, one after another (the previous cancelled first, since it would still be playing), to province ${PROVINCE} (10 districts × 10 communes, devices spread evenly); each setup's row is its median round by max receipt, and the ratio compares median rounds. Each device subscribed QoS 1 to its own and its 3 areas' command topics, and acks the play QoS 1. Times in ms from the moment the POST (for Mosquitto: one QoS 1 publish of the same bytes on the province topic, ${ROUNDS} times) was sent; receipt p50 / p99 / max over the devices not frozen. "All acks" is when a poll of Postgres every ${POLL_MS} ms, from the POST's answer on, first counted every non-frozen delivery of the broadcast \`delivered\` (Mosquitto: when one subscriber to \`loa/v1/devices/+/acks\` had them all). "CPU of the round" is what the broker process(es) and the client processes spent from the send until then, read from \`/proc\` (10 ms ticks); unlike receipt times, it does not depend on how the two cores were shared. "CPU to the last receipt" is the same from the send to the median round's last receipt (read every 20 ms): what the broker(s) took from the cores while the client processes, which every receipt waits for, still had plays to read. Frozen: 1% of the devices in a client process SIGSTOPped once they were subscribed, so they hold their connection but read nothing. ${args.workers} client processes on the same cores; they send no heartbeats, so Loa ran with \`HEARTBEAT_INTERVAL_S=${HEARTBEAT_INTERVAL_S}\` to keep them online however long a large fleet takes to connect.${cluster ? ' Two instances: CLUSTER=true, same Postgres and Redis prefix, client processes alternate between the instances (the frozen one on the first), the POST goes to the first.' : ' **Two instances not run: this build has no cluster mode (AppConfig knows no CLUSTER).**'} ${PROVISIONED_AFTER_BOOT}`,
        '',
        table(
          ['devices', 'broker', 'POST answered (ms)', 'received p50 / p99 / max (ms)', `max of each of the ${ROUNDS} rounds (ms)`, 'received', 'max ÷ Mosquitto max', 'all acks (ms)', 'frozen that got it', 'duplicates', 'CPU of the round, broker / clients (ms)', 'CPU to the last receipt, broker / clients (ms)', 'CPU broker / clients / rest (% of a core)', 'background before (% of a core)'],
          ['---:', '---', '---:', '---', '---', '---:', '---:', '---:', '---:', '---:', '---', '---', '---', '---:'],
          rows,
        ),
        '',
        ...verdicts,
        ...runs
          .filter((r) => r.broker === 'Mosquitto' && r.devices >= 10_000)
          .map((r) => `- Mosquitto (reference), ${r.devices} devices: median round, p99 / max per client process: ${perClient(r)} ms.`),
      ].join('\n'),
    };
  },
};
