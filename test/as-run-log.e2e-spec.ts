import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { DataSource } from 'typeorm';
import { AsRunLog } from '../src/broadcasts/as-run/as-run-log.service.js';
import { AsRunRecorder } from '../src/broadcasts/as-run/as-run-recorder.service.js';
import { deliveriesLockArgs } from '../src/broadcasts/deliveries-lock.js';
import {
  aDelivery,
  aFleetWithDeliveries,
  anOccurrence,
  aReportingSpeaker,
  deliveryOf,
  playbackEventsOf,
  rejectedMessagesOf,
  settled,
  type OccurrenceFixture,
  type ReportingSpeaker,
} from './support/as-run.js';
import { aDevice } from './support/devices.js';
import { anArea, anAreaTree, uniqueAreaCode } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe(AsRunRecorder.name, () => {
  let area: { province: string; district: string; commune: string };
  let speaker: ReportingSpeaker;

  beforeAll(async () => {
    area = await anAreaTree(t);
    speaker = await aReportingSpeaker(t, area.commune);
  });

  afterAll(async () => {
    await speaker?.client.endAsync();
  });

  it("marks a delivery delivered when the device acks the occurrence's play command", async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(occ.commandId!);

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'delivered' && r;
    });
    expect(row.deliveredAt).not.toBeNull();
  });

  it("holds an immediate play's ack and playback until its deliveries are written, then applies them", async () => {
    const occ = await anOccurrence(t);
    const db = t.app.get(DataSource);
    const writer = db.createQueryRunner();
    await writer.connect();
    await writer.startTransaction();
    try {
      // What ImmediateStart holds while the play is out and its deliveries not yet committed.
      await writer.query(`SELECT pg_advisory_xact_lock(${deliveriesLockArgs('$1::uuid')})`, [occ.occurrenceId]);

      await speaker.ack(occ.commandId!);
      await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started' });
      await eventually(async () => {
        const [row] = await db.query(`SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
        return row.n > 0;
      });
      await aDelivery(t, occ.occurrenceId, speaker.code, {}, writer);
      await writer.commitTransaction();
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
    }

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'started' && r;
    });
    expect(row.deliveredAt).not.toBeNull();
    expect(await playbackEventsOf(t, occ.occurrenceId)).toHaveLength(1);
    expect(await rejectedMessagesOf(t, speaker.code)).toBe(0);
  });

  it('marks a delivery failed when the device refuses the play command, naming why', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(occ.commandId!, 'rejected', 'expired');

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'failed' && r;
    });
    expect(row.reason).toBe('ack rejected: expired');
  });

  it('ignores acks of commands that are not plays', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);

    await speaker.ack(randomUUID());
    await settled(t, speaker);

    expect((await deliveryOf(t, occ.occurrenceId, speaker.code)).status).toBe('pending');
    expect(await rejectedMessagesOf(t, speaker.code)).toBe(0);
  });

  it('confirms deliveries carried by a Schedule version the device reports holding, and no later ones', async () => {
    const carriedBy5 = await anOccurrence(t, { immediate: false });
    const carriedBy7 = await anOccurrence(t, { immediate: false });
    await aDelivery(t, carriedBy5.occurrenceId, speaker.code, { scheduleVersion: 5 });
    await aDelivery(t, carriedBy7.occurrenceId, speaker.code, { scheduleVersion: 7 });

    await speaker.heartbeat(4);
    await settled(t, speaker);
    const afterOlder = await deliveryOf(t, carriedBy5.occurrenceId, speaker.code);
    await speaker.heartbeat(6);

    expect(afterOlder.status).toBe('pending');
    await eventually(async () => (await deliveryOf(t, carriedBy5.occurrenceId, speaker.code)).status === 'delivered');
    await settled(t, speaker);
    expect((await deliveryOf(t, carriedBy7.occurrenceId, speaker.code)).status).toBe('pending');
  });

  it('records started then finished with both times', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'finished' && r;
    });
    expect(row.startedAt).toEqual(startedAt);
    expect(row.endedAt).toEqual(endedAt);
    expect(row.deliveredAt).not.toBeNull();
  });

  it('applies an event id once: a re-send, even claiming another type, changes nothing', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const id = await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started' });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'started');
    const before = await deliveryOf(t, occ.occurrenceId, speaker.code);

    await speaker.event({ id, occurrenceId: occ.occurrenceId, type: 'failed', reason: 'replayed' });
    await settled(t, speaker);

    expect(await deliveryOf(t, occ.occurrenceId, speaker.code)).toEqual(before);
    expect(await playbackEventsOf(t, occ.occurrenceId)).toEqual([{ id, type: 'started' }]);
  });

  it("refuses an event about another device's occurrence and counts it against the sender", async () => {
    const other = await aReportingSpeaker(t, area.commune);
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, other.code);
    const before = await deliveryOf(t, occ.occurrenceId, other.code);
    const rejectedBefore = await rejectedMessagesOf(t, speaker.code);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished' });

    await eventually(async () => (await rejectedMessagesOf(t, speaker.code)) === rejectedBefore + 1);
    await settled(t, speaker);
    expect(await deliveryOf(t, occ.occurrenceId, other.code)).toEqual(before);
    expect(await playbackEventsOf(t, occ.occurrenceId)).toEqual([]);
    expect(await rejectedMessagesOf(t, other.code)).toBe(0);
    await other.client.endAsync();
  });

  it('refuses an event about an occurrence that does not exist', async () => {
    const rejectedBefore = await rejectedMessagesOf(t, speaker.code);
    const unknown = randomUUID();

    await speaker.event({ occurrenceId: unknown, type: 'started' });

    await eventually(async () => (await rejectedMessagesOf(t, speaker.code)) === rejectedBefore + 1);
    expect(await playbackEventsOf(t, unknown)).toEqual([]);
  });

  it('ends as finished when finished arrives before started, and fills in the start', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'finished');
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.startedAt && r;
    });
    expect(row).toMatchObject({ status: 'finished', startedAt, endedAt });
  });

  it('ends as finished when both events arrive reversed in one batch', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    const startedAt = new Date(Date.now() - 60_000);
    const endedAt = new Date(Date.now() - 1000);

    await Promise.all([
      speaker.event({ occurrenceId: occ.occurrenceId, type: 'finished', at: endedAt }),
      speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt }),
    ]);

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'finished' && r.startedAt && r;
    });
    expect(row).toMatchObject({ status: 'finished', startedAt, endedAt });
  });

  it("lets a late started event override Loa's inference that the play was missed", async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code, { status: 'missed', reason: 'never reached the device' });
    const startedAt = new Date();

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started', at: startedAt });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'started' && r;
    });
    expect(row).toMatchObject({ startedAt, endedAt: null, reason: null });
  });

  it('records a play the device skipped as missed, with its reason', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code, { status: 'delivered' });

    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'skipped', reason: 'media checksum mismatch' });

    const row = await eventually(async () => {
      const r = await deliveryOf(t, occ.occurrenceId, speaker.code);
      return r.status === 'missed' && r;
    });
    expect(row.reason).toBe('skipped by device: media checksum mismatch');
  });

  it('does not let a refused ack undo playback the device already reported', async () => {
    const occ = await anOccurrence(t);
    await aDelivery(t, occ.occurrenceId, speaker.code);
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'started' });
    await speaker.event({ occurrenceId: occ.occurrenceId, type: 'interrupted', reason: 'emergency' });
    await eventually(async () => (await deliveryOf(t, occ.occurrenceId, speaker.code)).status === 'interrupted');

    await speaker.ack(occ.commandId!, 'failed', 'busy');
    await settled(t, speaker);

    expect(await deliveryOf(t, occ.occurrenceId, speaker.code)).toMatchObject({ status: 'interrupted', reason: 'emergency' });
  });

  // How fast is the fan-out benchmark's business (bench/emergency-fanout.ts); this checks that none is lost.
  it('records every one of the 10,000 acks of an emergency, fed in bursts as the gateway does', async () => {
    const occ = await anOccurrence(t, { priority: 'emergency' });
    const codes = await aFleetWithDeliveries(t, area.district, occ.occurrenceId, 10_000);
    const recorder = t.app.get(AsRunRecorder);

    // As the gateway hands them over: a thousand every 100 ms.
    for (let i = 0; i < codes.length; i += 1000) {
      for (const code of codes.slice(i, i + 1000)) recorder.onAck(code, { commandId: occ.commandId!, status: 'ok' });
      await new Promise((r) => setTimeout(r, 100));
    }

    await eventually(async () => (await statusCount(occ.occurrenceId, 'delivered')) === 10_000, 60_000, 100);
  });

  async function statusCount(occurrenceId: string, status: string): Promise<number> {
    const [{ n }] = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM deliveries WHERE occurrence_id = $1 AND status = $2`, [occurrenceId, status]);
    return n;
  }
});

describe(AsRunLog.name, () => {
  const HOUR = 3600_000;
  let tree: { province: string; district: string; commune: string };
  let elsewhere: string;
  let inCommune: string;
  let inDistrict: string;
  let outside: string;
  let twoHoursAgo: OccurrenceFixture;
  let anHourAgo: OccurrenceFixture;
  let yesterday: OccurrenceFixture;

  beforeAll(async () => {
    tree = await anAreaTree(t);
    elsewhere = (await anArea(t)).code;
    inCommune = (await aDevice(t, { areaCode: tree.commune, code: `a-${randomUUID().slice(0, 8)}` })).code;
    inDistrict = (await aDevice(t, { areaCode: tree.district, code: `b-${randomUUID().slice(0, 8)}` })).code;
    outside = (await aDevice(t, { areaCode: elsewhere })).code;
    twoHoursAgo = await anOccurrence(t, {
      startAt: new Date(Date.now() - 2 * HOUR),
      title: 'Bão số 3, "khẩn cấp"',
      category: 'disaster',
      priority: 'emergency',
    });
    anHourAgo = await anOccurrence(t, { startAt: new Date(Date.now() - HOUR), immediate: false });
    yesterday = await anOccurrence(t, { startAt: new Date(Date.now() - 30 * HOUR), immediate: false });
    await aDelivery(t, twoHoursAgo.occurrenceId, inCommune, { status: 'finished', scheduleVersion: 3 });
    await aDelivery(t, twoHoursAgo.occurrenceId, inDistrict, { status: 'missed', reason: 'never reached the device,\nno ack' });
    await aDelivery(t, twoHoursAgo.occurrenceId, outside, { status: 'finished' });
    await aDelivery(t, anHourAgo.occurrenceId, inCommune);
    await aDelivery(t, yesterday.occurrenceId, inCommune, { status: 'failed', reason: 'ack failed: no audio' });
  });

  const get = (path: string, accept = 'application/json') => t.http().get(path).set('Authorization', t.auth).set('Accept', accept);
  const pairs = (items: { occurrenceId: string; deviceCode: string }[]) => items.map((i) => [i.occurrenceId, i.deviceCode]);

  describe('GET /api/v1/occurrences/:id/deliveries', () => {
    it("lists the occurrence's deliveries by device, with counts by status", async () => {
      const res = await get(`/api/v1/occurrences/${twoHoursAgo.occurrenceId}/deliveries`).expect(200);

      expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 50 });
      expect(res.body.items.map((i: { deviceCode: string }) => i.deviceCode)).toEqual([inCommune, inDistrict, outside].sort());
      expect(res.body.items.find((i: { deviceCode: string }) => i.deviceCode === inCommune)).toEqual({
        deviceCode: inCommune,
        deviceName: `Loa ${inCommune}`,
        areaCode: tree.commune,
        status: 'finished',
        scheduleVersion: 3,
        createdAt: expect.any(String),
        deliveredAt: null,
        startedAt: null,
        endedAt: null,
        reason: null,
      });
      expect(res.body.counts).toEqual({
        pending: 0, delivered: 0, started: 0, finished: 2, failed: 0, interrupted: 0, missed: 1, preempted: 0, cancelled: 0,
      });
    });

    it('filters by status, and still counts the whole occurrence', async () => {
      const res = await get(`/api/v1/occurrences/${twoHoursAgo.occurrenceId}/deliveries?status=missed`).expect(200);

      expect(res.body.total).toBe(1);
      expect(res.body.items[0]).toMatchObject({ deviceCode: inDistrict, status: 'missed', reason: 'never reached the device,\nno ack' });
      expect(res.body.counts.finished).toBe(2);
    });

    it('answers 404 for an unknown occurrence and 400 for an id that is not a UUID', async () => {
      expect((await get(`/api/v1/occurrences/${randomUUID()}/deliveries`).expect(404)).body.error).toBe('not-found');
      expect((await get('/api/v1/occurrences/nope/deliveries').expect(400)).body.error).toBe('validation');
      expect((await get(`/api/v1/occurrences/${twoHoursAgo.occurrenceId}/deliveries?status=lost`).expect(400)).body.error).toBe('validation');
    });
  });

  describe('GET /api/v1/deliveries', () => {
    it('shows the last 24 h of an area subtree, oldest occurrence first', async () => {
      const res = await get(`/api/v1/deliveries?areaCode=${tree.province}`).expect(200);

      expect(pairs(res.body.items)).toEqual([
        ...[inCommune, inDistrict].sort().map((code) => [twoHoursAgo.occurrenceId, code]),
        [anHourAgo.occurrenceId, inCommune],
      ]);
      expect(res.body.total).toBe(3);
      expect(res.body.items.find((i: { deviceCode: string }) => i.deviceCode === inCommune)).toEqual({
        occurrenceId: twoHoursAgo.occurrenceId,
        broadcastId: twoHoursAgo.broadcastId,
        bulletinTitle: 'Bão số 3, "khẩn cấp"',
        category: 'disaster',
        priority: 'emergency',
        startAt: twoHoursAgo.startAt.toISOString(),
        deviceCode: inCommune,
        areaCode: tree.commune,
        status: 'finished',
        deliveredAt: null,
        startedAt: null,
        endedAt: null,
        reason: null,
      });
    });

    it('narrows to a smaller subtree, leaving out devices above it', async () => {
      const res = await get(`/api/v1/deliveries?areaCode=${tree.commune}`).expect(200);

      expect(pairs(res.body.items)).toEqual([
        [twoHoursAgo.occurrenceId, inCommune],
        [anHourAgo.occurrenceId, inCommune],
      ]);
    });

    it('filters by status (a comma list), time window, broadcast and device', async () => {
      const from = new Date(Date.now() - 48 * HOUR).toISOString();
      const byStatus = await get(`/api/v1/deliveries?areaCode=${tree.province}&from=${from}&status=missed,failed`).expect(200);
      const window = await get(
        `/api/v1/deliveries?areaCode=${tree.province}&from=${new Date(Date.now() - 31 * HOUR).toISOString()}&to=${new Date(Date.now() - 29 * HOUR).toISOString()}`,
      ).expect(200);
      const byBroadcast = await get(`/api/v1/deliveries?broadcastId=${anHourAgo.broadcastId}`).expect(200);
      const byDevice = await get(`/api/v1/deliveries?deviceCode=${outside}`).expect(200);

      expect(pairs(byStatus.body.items)).toEqual([
        [yesterday.occurrenceId, inCommune],
        [twoHoursAgo.occurrenceId, inDistrict],
      ]);
      expect(pairs(window.body.items)).toEqual([[yesterday.occurrenceId, inCommune]]);
      expect(pairs(byBroadcast.body.items)).toEqual([[anHourAgo.occurrenceId, inCommune]]);
      expect(pairs(byDevice.body.items)).toEqual([[twoHoursAgo.occurrenceId, outside]]);
    });

    it('accepts an offset whose + was not URL-encoded', async () => {
      const res = await get(`/api/v1/deliveries?areaCode=${tree.province}&from=2020-01-01T07:00:00+07:00&to=2020-02-01T07:00:00+07:00`);

      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });

    it('exports every matching row as CSV that parses back to the same rows', async () => {
      const from = new Date(Date.now() - 48 * HOUR);
      const to = new Date();
      const query = `areaCode=${tree.province}&from=${from.toISOString()}&to=${to.toISOString()}`;
      const json = await get(`/api/v1/deliveries?${query}&pageSize=500`).expect(200);

      const res = await get(`/api/v1/deliveries?${query}&pageSize=1`, 'text/csv').expect(200);

      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="as-run-${compact(from)}-${compact(to)}.csv"`);
      const rows = parse(res.text, { columns: true }) as Record<string, string>[];
      expect(rows).toEqual(json.body.items.map((i: Record<string, unknown>) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, v ?? '']))));
      expect(rows).toHaveLength(4);
    });

    it('streams an export longer than one keyset page without losing or repeating a row', async () => {
      const area = await anArea(t);
      const startAt = new Date(Date.now() - HOUR);
      const first = await anOccurrence(t, { startAt });
      const second = await anOccurrence(t, { startAt });
      // Microseconds JavaScript cannot hold: the cursor must not round them away.
      await t.app.get(DataSource).query(`UPDATE occurrences SET start_at = start_at + interval '123 microseconds' WHERE id = ANY($1)`, [
        [first.occurrenceId, second.occurrenceId],
      ]);
      const codes = await aFleetWithDeliveries(t, area.code, [first.occurrenceId, second.occurrenceId], 3000);

      const res = await get(`/api/v1/deliveries?areaCode=${area.code}`, 'text/csv').expect(200);

      const rows = parse(res.text, { columns: true }) as { occurrenceId: string; deviceCode: string }[];
      expect(rows).toHaveLength(6000);
      expect(new Set(rows.map((r) => `${r.occurrenceId} ${r.deviceCode}`)).size).toBe(6000);
      const [earlier, later] = [first.occurrenceId, second.occurrenceId].sort();
      expect(rows.slice(0, 3000).every((r) => r.occurrenceId === earlier)).toBe(true);
      expect(rows.slice(3000).every((r) => r.occurrenceId === later)).toBe(true);
      expect(rows.slice(0, 3000).map((r) => r.deviceCode)).toEqual([...codes].sort());
    });

    it('writes the header alone when nothing matches', async () => {
      const res = await get(`/api/v1/deliveries?deviceCode=nobody-here`, 'text/csv').expect(200);

      expect(res.text).toBe(
        'occurrenceId,broadcastId,bulletinTitle,category,priority,startAt,deviceCode,areaCode,status,deliveredAt,startedAt,endedAt,reason\n',
      );
    });

    it('refuses a reversed or too long window, non-ISO dates, unknown statuses and unknown areas', async () => {
      const reversed = await get('/api/v1/deliveries?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z');
      const tooLong = await get('/api/v1/deliveries?from=2026-01-01T00:00:00Z&to=2026-04-05T00:00:00Z');
      const notIso = await get('/api/v1/deliveries?from=yesterday');
      const badStatus = await get('/api/v1/deliveries?status=finished,lost');
      const badBroadcast = await get('/api/v1/deliveries?broadcastId=42');
      const unknownArea = await get(`/api/v1/deliveries?areaCode=${uniqueAreaCode()}`);
      const unknownAreaCsv = await get(`/api/v1/deliveries?areaCode=${uniqueAreaCode()}`, 'text/csv');

      expect([reversed.status, reversed.body.error]).toEqual([400, 'invalid-window']);
      expect([tooLong.status, tooLong.body.error]).toEqual([400, 'invalid-window']);
      expect([notIso.status, notIso.body.error]).toEqual([400, 'validation']);
      expect([badStatus.status, badStatus.body.error]).toEqual([400, 'validation']);
      expect([badBroadcast.status, badBroadcast.body.error]).toEqual([400, 'validation']);
      expect([unknownArea.status, unknownArea.body.error]).toEqual([404, 'unknown-area']);
      expect(unknownAreaCsv.status).toBe(404);
    });
  });
});

function compact(date: Date): string {
  return date.toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '');
}
