/**
 * Offline detection: N devices online, K of them held by one client process that is
 * SIGKILLed; how long until Postgres lists each of the K `offline`, against the bound
 * OFFLINE_GRACE_S + LIVENESS_SWEEP_S. The kernel closes a killed process's sockets, so
 * Loa sees each link end at once; a device that vanishes without a FIN (power cut, cable)
 * is found by the MQTT keep-alive instead (1.5 × 60 s), which this does not measure.
 */
import { Fleet, splitEvenly } from '../fleet.js';
import { LoaDeployment } from '../loa.js';
import { log, settle, sleep, spread, waitFor, showSpread, type Spread } from '../support.js';
import { PROVISIONED_AFTER_BOOT, table, verdict, type Scenario } from './scenario.js';

const GRACE_S = 15;
/** Loa's default sweep period (app-config.ts). */
const SWEEP_S = 2;
const POLL_MS = 200;

export const offlineDetection: Scenario = {
  name: 'offline',
  title: 'Offline detection',
  async run(args) {
    const n = args.devices?.[0] ?? (args.quick ? 500 : 10_000);
    const k = Math.max(1, Math.round(n / 10));
    const boundS = GRACE_S + SWEEP_S;
    const { loa, devices } = await LoaDeployment.start({
      database: 'loa_bench_offline',
      devices: n,
      provision: 'after-boot',
      env: { OFFLINE_GRACE_S: String(GRACE_S), LIVENESS_SWEEP_S: String(SWEEP_S) },
    });
    const victims = devices.slice(-k);
    const fleet = new Fleet([...splitEvenly(devices.slice(0, -k), args.workers), victims]);
    let detection: Spread;
    let offlineOthers: number;
    let missing: number;
    try {
      await fleet.connect([loa.instances[0].mqttUrl], { concurrency: args.concurrency });
      await waitFor(`${n} devices online`, async () => (await loa.countState('online')) >= n, 10 * 60_000, 500);
      await settle(loa.pids[0]);
      const codes = victims.map((d) => d.code);
      const seen = new Map<string, number>();
      const killedAt = Date.now();
      fleet.signal(fleet.groups.length - 1, 'SIGKILL');
      log(`killed the process holding ${k} of ${n} devices`);
      const deadline = killedAt + (boundS + 30) * 1000;
      while (seen.size < k && Date.now() < deadline) {
        const { rows } = await loa.db.query<{ code: string }>(`SELECT code FROM devices WHERE state = 'offline' AND code = ANY($1::text[])`, [codes]);
        const now = Date.now();
        for (const { code } of rows) if (!seen.has(code)) seen.set(code, now - killedAt);
        await sleep(POLL_MS);
      }
      detection = spread([...seen.values()].map((ms) => ms / 1000));
      missing = k - seen.size;
      offlineOthers = (await loa.countState('offline')) - seen.size;
    } finally {
      await fleet.stop();
      await loa.stop();
    }
    const data = { devices: n, killed: k, graceS: GRACE_S, sweepS: SWEEP_S, pollMs: POLL_MS, detectionS: detection, neverDetected: missing, othersOffline: offlineOthers };
    return {
      options: { devices: n, killed: k, workers: args.workers },
      data,
      markdown: [
        `${n} devices online, ${k} of them in one client process that is SIGKILLed; Postgres polled every ${POLL_MS} ms for their state. OFFLINE_GRACE_S=${GRACE_S}, LIVENESS_SWEEP_S=${SWEEP_S}: the bound is ${boundS} s. The kernel closes the killed process's sockets, so this measures grace + sweep + recording, not keep-alive expiry. ${PROVISIONED_AFTER_BOOT}`,
        '',
        table(
          ['devices', 'killed', 'offline after p50 / p99 / max (s)', 'never offline', 'others wrongly offline', 'bound (s)'],
          ['---:', '---:', '---', '---:', '---:', '---:'],
          [[n, k, showSpread(detection), missing, offlineOthers, boundS]],
        ),
        '',
        `- 99% of killed devices offline within grace + 5 s (${GRACE_S + 5} s): p99 ${detection.p99} s — ${verdict(missing <= k / 100 && detection.p99 <= GRACE_S + 5)}.`,
        `- Within the configured bound grace + sweep + 5 s (${boundS + 5} s): max ${detection.max} s — ${verdict(missing === 0 && detection.max <= boundS + 5)}.`,
      ].join('\n'),
    };
  },
};

