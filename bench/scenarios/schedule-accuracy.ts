/**
 * Schedule accuracy: a `once` broadcast to every device of the province, LEAD_S ahead.
 * Loa puts it into each device's retained schedule; each device starts the item on its
 * own timer at startAt and reports `started`. Skew = when it started − startAt, on the
 * one clock of this machine: late schedules, Loa holding the event loop, timers firing
 * late under load all show in it.
 */
import { Fleet, splitEvenly } from '../fleet.js';
import { LoaDeployment, PROVINCE } from '../loa.js';
import { log, round, settle, showSpread, spread, waitFor } from '../support.js';
import { PROVISIONED_AFTER_BOOT, table, verdict, type Scenario } from './scenario.js';

export const scheduleAccuracy: Scenario = {
  name: 'schedule',
  title: 'Schedule accuracy',
  async run(args) {
    const n = args.devices?.[0] ?? (args.quick ? 500 : 10_000);
    const leadS = args.quick ? 15 : 30;
    const { loa, devices } = await LoaDeployment.start({ database: 'loa_bench_schedule', devices: n, provision: 'after-boot' });
    const fleet = new Fleet(splitEvenly(devices, args.workers));
    try {
      const bulletinId = await loa.operator.approvedBulletin();
      await fleet.connect([loa.instances[0].mqttUrl], { concurrency: args.concurrency, schedule: true });
      await waitFor(`${n} devices online`, async () => (await loa.countState('online')) >= n, 10 * 60_000, 500);
      await settle(loa.pids[0]);
      const startAt = new Date(Math.ceil((Date.now() + leadS * 1000) / 1000) * 1000).toISOString();
      await loa.operator.call('POST', '/api/v1/broadcasts', { bulletinId, targets: { areaCodes: [PROVINCE] }, schedule: { kind: 'once', startAt }, priority: 'normal' });
      log(`schedule: a once broadcast at ${startAt} to ${n} devices`);
      const complete = await fleet.allDone('started', (leadS + 60) * 1000);
      if (!complete) log('not every device started within a minute of startAt');
      const reports = await fleet.reports();
      const skews = reports.flatMap((r) => r.startSkewMs.filter((s) => !Number.isNaN(s)));
      const leads = reports.flatMap((r) => r.scheduleLeadMs.filter((s) => !Number.isNaN(s)).map((ms) => ms / 1000));
      await waitFor('started events recorded', async () => {
        const { rows } = await loa.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM playback_events WHERE type = 'started'`);
        return rows[0].n >= skews.length;
      }, 30_000, 500).catch(() => log('not every started event was recorded within 30 s'));
      const { rows } = await loa.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM playback_events WHERE type = 'started'`);
      const data = {
        devices: n,
        leadS,
        started: skews.length,
        recorded: rows[0].n,
        absSkewMs: spread(skews.map(Math.abs)),
        skewMs: { min: round(Math.min(...skews)), max: round(Math.max(...skews)) },
        /** How long before startAt the devices had their schedule (s): the median, and the last to get it. */
        scheduleLeadS: { p50: spread(leads).p50, latest: round(Math.min(...leads)) },
      };
      const leadSpread = `${data.scheduleLeadS.p50} / ${data.scheduleLeadS.latest}`;
      return {
        options: { devices: n, leadS, workers: args.workers },
        data,
        markdown: [
          `A \`once\` broadcast to province ${PROVINCE}, posted ${leadS} s ahead of its startAt (on a whole second); every device (minimal firmware, ${args.workers} processes on the same cores) subscribes to its retained schedule and starts the item on a timer at startAt, then publishes \`started\`. Skew is measured on the machine's one clock. ${PROVISIONED_AFTER_BOOT}`,
          '',
          table(
            ['devices', 'started', '\\|skew\\| p50 / p99 / max (ms)', 'skew min … max (ms)', 'schedule arrived before startAt p50 / last device (s)', '`started` recorded by Loa'],
            ['---:', '---:', '---', '---', '---', '---:'],
            [[n, skews.length, showSpread(data.absSkewMs), `${data.skewMs.min} … ${data.skewMs.max}`, leadSpread, rows[0].n]],
          ),
          '',
          `- Schedule skew p99 < 1 s: p99 |skew| ${data.absSkewMs.p99} ms over ${skews.length} of ${n} devices — ${verdict(skews.length === n && data.absSkewMs.p99 < 1000)}.`,
        ].join('\n'),
      };
    } finally {
      await fleet.stop();
      await loa.stop();
    }
  },
};
