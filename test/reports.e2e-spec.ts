import { randomBytes, randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { DataSource } from 'typeorm';
import type { DeliveryStatus } from '../src/broadcasts/delivery-status.js';
import type { DeviceState } from '../src/devices/device-state.js';
import { ReportsService } from '../src/reports/reports.service.js';
import { aDevice } from './support/devices.js';
import { anArea } from './support/factories.js';
import { aUser, type TestUser } from './support/users.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/**
 * A hand-computed fixture over one day, 2026-01-10 (UTC):
 *
 * province P › district D1 › commune C1 (devices A, F)
 *                          › commune C2 › village V2 (device B, created at 12:00)
 *            › district D2 › commune C3 (device C; device G, decommissioned on 01-05)
 *
 * Uptime: A online 06:00–12:00 → 25 %; F online from 23:00 the day before to 03:00 → 12.5 %;
 * B observed 12:00–24:00, online from 18:00 → 50 %; C never reported → 0 %.
 *
 * Broadcasts: X (1 min) plays at 07:00 (X1) and 19:00 (X2), Y (2 min) at 08:00 (Y1), Z the
 * next day (outside the period).
 */
const FROM = '2026-01-10T00:00:00.000Z';
const TO = '2026-01-11T00:00:00.000Z';
const at = (hhmmss: string, day = '2026-01-10') => new Date(`${day}T${hhmmss}Z`);

let t: TestApp;
let db: DataSource;
let seq = 0;
const area: Record<'P' | 'D1' | 'D2' | 'C1' | 'C2' | 'V2' | 'C3', string> = {} as never;
const device: Record<'A' | 'F' | 'B' | 'C' | 'G', string> = {} as never;
let districtUser: TestUser;

beforeAll(async () => {
  t = await startTestApp();
  db = t.app.get(DataSource);

  area.P = (await anArea(t, { name: 'Tỉnh P' })).code;
  area.D1 = (await anArea(t, { parentCode: area.P, name: 'Huyện D1' })).code;
  area.D2 = (await anArea(t, { parentCode: area.P, name: 'Huyện D2' })).code;
  area.C1 = (await anArea(t, { parentCode: area.D1, name: 'Xã C1' })).code;
  area.C2 = (await anArea(t, { parentCode: area.D1, name: 'Xã C2' })).code;
  area.V2 = (await anArea(t, { parentCode: area.C2, name: 'Thôn V2' })).code;
  area.C3 = (await anArea(t, { parentCode: area.D2, name: 'Xã C3' })).code;

  device.A = await aSpeaker(area.C1, 'A', at('00:00:00', '2026-01-01'));
  device.F = await aSpeaker(area.C1, 'F', at('00:00:00', '2026-01-01'));
  device.B = await aSpeaker(area.V2, 'B', at('12:00:00'));
  device.C = await aSpeaker(area.C3, 'C', at('00:00:00', '2026-01-01'));
  device.G = await aSpeaker(area.C3, 'G', at('00:00:00', '2026-01-01'));
  await db.query(`UPDATE devices SET decommissioned_at = $2 WHERE code = $1`, [device.G, at('00:00:00', '2026-01-05')]);

  await stateChanges(device.A, [['offline', at('12:00:00', '2026-01-09')], ['online', at('06:00:00')], ['offline', at('12:00:00')]]);
  await stateChanges(device.F, [['online', at('23:00:00', '2026-01-09')], ['offline', at('03:00:00')]]);
  await stateChanges(device.B, [['online', at('18:00:00')]]);
  await stateChanges(device.G, [['online', at('00:00:00', '2026-01-02')]]);

  const x = await aBroadcast(60_000);
  const y = await aBroadcast(120_000);
  const z = await aBroadcast(60_000);
  const x1 = await anOccurrence(x, at('07:00:00'));
  const x2 = await anOccurrence(x, at('19:00:00'));
  const y1 = await anOccurrence(y, at('08:00:00'));
  const z1 = await anOccurrence(z, at('07:00:00', '2026-01-11'));

  await aDelivery(x1, device.A, 'finished', at('07:00:00'), at('07:01:00')); // 1 min
  await aDelivery(x1, device.F, 'missed');
  await aDelivery(x1, device.C, 'finished', null, at('07:01:00')); // no start reported: the duration, 1 min
  await aDelivery(x2, device.A, 'finished', at('19:00:05'), at('19:00:35')); // 0.5 min
  await aDelivery(x2, device.F, 'cancelled');
  await aDelivery(x2, device.B, 'failed', null, at('19:00:01'));
  await aDelivery(y1, device.A, 'interrupted', at('08:00:00'), at('08:00:30'));
  await aDelivery(y1, device.F, 'finished', at('08:00:00'), at('08:05:00')); // capped at the duration: 2 min
  await aDelivery(y1, device.C, 'preempted');
  await aDelivery(z1, device.A, 'finished', at('07:00:00', '2026-01-11'), at('07:01:00', '2026-01-11'));

  districtUser = await aUser(t, 'operator', area.D1);
});

afterAll(async () => {
  await t?.close();
});

async function aSpeaker(areaCode: string, label: string, createdAt: Date): Promise<string> {
  const { code } = await aDevice(t, { areaCode, name: `Loa ${label}` });
  await db.query(`UPDATE devices SET created_at = $2 WHERE code = $1`, [code, createdAt]);
  return code;
}

async function stateChanges(code: string, changes: [DeviceState, Date][]): Promise<void> {
  let from: DeviceState = 'unknown';
  for (const [to, when] of changes) {
    await db.query(
      `INSERT INTO device_state_changes (device_id, from_state, to_state, cause, at, seq)
       SELECT id, $2, $3, $4, $5, $6 FROM devices WHERE code = $1`,
      [code, from, to, to === 'online' ? 'connected' : 'heartbeat-timeout', when, String(when.getTime() * 1024 + ++seq)],
    );
    from = to;
  }
}

async function aBroadcast(durationMs: number): Promise<string> {
  const title = `Bulletin ${randomBytes(3).toString('hex')}`;
  const [media] = await db.query(
    `INSERT INTO media (kind, title, sha256, bytes, duration_ms, mime, storage_key)
     VALUES ('file', $1, $2, 1000, $3, 'audio/mpeg', $4) RETURNING id`,
    [title, randomBytes(32).toString('hex'), durationMs, `test/${randomUUID()}`],
  );
  const [bulletin] = await db.query(
    `INSERT INTO bulletins (title, category, media_id, status) VALUES ($1, 'news', $2, 'approved') RETURNING id`,
    [title, media.id],
  );
  const [broadcast] = await db.query(
    `INSERT INTO broadcasts (bulletin_id, media_id, priority, schedule_kind, start_at, timezone, duration_ms, state)
     VALUES ($1, $2, 'normal', 'recurring', $3, 'Asia/Ho_Chi_Minh', $4, 'completed') RETURNING id`,
    [bulletin.id, media.id, at('00:00:00'), durationMs],
  );
  return broadcast.id;
}

async function anOccurrence(broadcastId: string, startAt: Date): Promise<string> {
  const [row] = await db.query(
    `INSERT INTO occurrences (broadcast_id, start_at, end_at) SELECT id, $2, $2::timestamptz + duration_ms * interval '1 ms' FROM broadcasts WHERE id = $1 RETURNING id`,
    [broadcastId, startAt],
  );
  return row.id;
}

async function aDelivery(occurrenceId: string, code: string, status: DeliveryStatus, startedAt: Date | null = null, endedAt: Date | null = null) {
  await db.query(
    `INSERT INTO deliveries (occurrence_id, device_id, status, started_at, ended_at)
     SELECT $1, id, $3, $4, $5 FROM devices WHERE code = $2`,
    [occurrenceId, code, status, startedAt, endedAt],
  );
}

function report(kind: 'uptime' | 'broadcasts', query: Record<string, string>, auth = t.auth) {
  return t.http().get(`/api/v1/reports/${kind}`).query(query).set('Authorization', auth);
}

describe(`${ReportsService.name}: uptime`, () => {
  it('gives each device its online time over the part of the period it existed, from its state history', async () => {
    const res = await report('uptime', { areaCode: area.P, from: FROM, to: TO }).expect(200);

    expect(res.body).toEqual({
      areaCode: area.P,
      from: FROM,
      to: TO,
      devices: [
        { code: device.A, name: 'Loa A', communeCode: area.C1, communeName: 'Xã C1', onlineSeconds: 21_600, observedSeconds: 86_400, uptimePct: 25 },
        { code: device.F, name: 'Loa F', communeCode: area.C1, communeName: 'Xã C1', onlineSeconds: 10_800, observedSeconds: 86_400, uptimePct: 12.5 },
        { code: device.B, name: 'Loa B', communeCode: area.C2, communeName: 'Xã C2', onlineSeconds: 21_600, observedSeconds: 43_200, uptimePct: 50 },
        { code: device.C, name: 'Loa C', communeCode: area.C3, communeName: 'Xã C3', onlineSeconds: 0, observedSeconds: 86_400, uptimePct: 0 },
      ].sort((a, b) => a.communeCode.localeCompare(b.communeCode) || a.code.localeCompare(b.code)),
      summary: { devices: 4, meanUptimePct: 21.88 },
    });
  });

  it('takes the state at the start from the last change before it, and stops counting at now', async () => {
    const district = (await anArea(t, { parentCode: (await anArea(t)).code })).code;
    const commune = (await anArea(t, { parentCode: district })).code;
    const code = await aSpeaker(commune, 'N', at('00:00:00', '2026-01-01'));
    const now = Date.now();
    await stateChanges(code, [['online', new Date(now - 5 * 3600_000)], ['offline', new Date(now - 3600_000)]]);

    const res = await report('uptime', { areaCode: district, from: new Date(now - 2 * 3600_000).toISOString(), to: new Date(now + 22 * 3600_000).toISOString() }).expect(200);

    const [row] = res.body.devices;
    expect(row.onlineSeconds).toBe(3600);
    expect(row.observedSeconds).toBeGreaterThanOrEqual(7200);
    expect(row.observedSeconds).toBeLessThan(7200 + 120);
  });

  it("defaults a scoped user to their own area and shows only its communes", async () => {
    const res = await report('uptime', { from: FROM, to: TO }, districtUser.auth).expect(200);

    expect(res.body.areaCode).toBe(area.D1);
    expect(res.body.devices.map((d: { code: string }) => d.code).sort()).toEqual([device.A, device.F, device.B].sort());
    expect(res.body.summary).toEqual({ devices: 3, meanUptimePct: 29.17 });
  });

  it('exports the devices as CSV with a header row and a file name', async () => {
    const res = await report('uptime', { areaCode: area.D1, from: FROM, to: TO, format: 'csv' }).expect(200);

    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="uptime-${area.D1}-20260110T000000Z-20260111T000000Z.csv"`);
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['code', 'name', 'communeCode', 'communeName', 'onlineSeconds', 'observedSeconds', 'uptimePct']);
    expect(rows.find((r) => r.code === device.B)).toEqual({
      code: device.B, name: 'Loa B', communeCode: area.C2, communeName: 'Xã C2', onlineSeconds: '21600', observedSeconds: '43200', uptimePct: '50',
    });
    expect(rows).toHaveLength(3);
  });
});

describe(`${ReportsService.name}: broadcasts`, () => {
  const c1 = { devices: 2, broadcasts: 2, occurrences: 3, minutesPlayed: 3.5, deliveries: 5, delivered: 3, successRate: 60, missed: 1 };
  const c2 = { devices: 1, broadcasts: 1, occurrences: 1, minutesPlayed: 0, deliveries: 1, delivered: 0, successRate: 0, missed: 0 };
  const c3 = { devices: 1, broadcasts: 1, occurrences: 1, minutesPlayed: 1, deliveries: 1, delivered: 1, successRate: 100, missed: 0 };

  it('sums what played in each commune, and the whole area with broadcasts counted once', async () => {
    const res = await report('broadcasts', { areaCode: area.P, from: FROM, to: TO }).expect(200);

    expect(res.body).toEqual({
      areaCode: area.P,
      from: FROM,
      to: TO,
      communes: [
        { communeCode: area.C1, communeName: 'Xã C1', ...c1 },
        { communeCode: area.C2, communeName: 'Xã C2', ...c2 },
        { communeCode: area.C3, communeName: 'Xã C3', ...c3 },
      ].sort((a, b) => a.communeCode.localeCompare(b.communeCode)),
      totals: { devices: 4, broadcasts: 2, occurrences: 3, minutesPlayed: 4.5, deliveries: 7, delivered: 4, successRate: 57.14, missed: 1 },
    });
  });

  it('reports zeros, and no success rate, for a period without plays', async () => {
    const res = await report('broadcasts', { areaCode: area.C3, from: '2026-01-20T00:00:00Z', to: '2026-01-21T00:00:00Z' }).expect(200);

    expect(res.body.communes).toEqual([
      { communeCode: area.C3, communeName: 'Xã C3', devices: 1, broadcasts: 0, occurrences: 0, minutesPlayed: 0, deliveries: 0, delivered: 0, successRate: null, missed: 0 },
    ]);
    expect(res.body.totals.successRate).toBeNull();
  });

  it("shows a district user their communes only", async () => {
    const res = await report('broadcasts', { from: FROM, to: TO }, districtUser.auth).expect(200);

    expect(res.body.areaCode).toBe(area.D1);
    expect(res.body.communes.map((c: { communeCode: string }) => c.communeCode).sort()).toEqual([area.C1, area.C2].sort());
    expect(res.body.totals).toEqual({ devices: 3, broadcasts: 2, occurrences: 3, minutesPlayed: 3.5, deliveries: 6, delivered: 3, successRate: 50, missed: 1 });
  });

  it('exports the communes and a total row as CSV', async () => {
    const res = await report('broadcasts', { areaCode: area.P, from: FROM, to: TO, format: 'csv' }).expect(200);

    expect(res.headers['content-disposition']).toBe(`attachment; filename="broadcasts-${area.P}-20260110T000000Z-20260111T000000Z.csv"`);
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.communeCode)).toEqual([...[area.C1, area.C2, area.C3].sort(), '']);
    expect(rows.find((r) => r.communeCode === area.C1)).toEqual({
      communeCode: area.C1, communeName: 'Xã C1', devices: '2', broadcasts: '2', occurrences: '3', minutesPlayed: '3.5',
      deliveries: '5', delivered: '3', successRate: '60', missed: '1',
    });
    expect(rows.at(-1)).toMatchObject({ communeName: 'total', deliveries: '7', successRate: '57.14' });
  });
});

describe('reports: scope and validation', () => {
  it("answers an area outside the caller's scope exactly like an unknown one", async () => {
    const outside = await report('uptime', { areaCode: area.D2, from: FROM, to: TO }, districtUser.auth).expect(404);
    const unknown = await report('uptime', { areaCode: 'nowhere', from: FROM, to: TO }, districtUser.auth).expect(404);

    expect(outside.body).toEqual({ error: 'unknown-area', message: `area ${area.D2} not found` });
    expect(unknown.body).toEqual({ error: 'unknown-area', message: 'area nowhere not found' });
  });

  it('lets a scoped user narrow to an area inside their scope', async () => {
    const res = await report('broadcasts', { areaCode: area.C1, from: FROM, to: TO }, districtUser.auth).expect(200);

    expect(res.body.communes.map((c: { communeCode: string }) => c.communeCode)).toEqual([area.C1]);
  });

  it('gives admins the whole country by default', async () => {
    const res = await report('broadcasts', { from: FROM, to: TO }).expect(200);

    expect(res.body.areaCode).toBeNull();
    expect(res.body.totals).toMatchObject({ deliveries: 7, delivered: 4 });
  });

  it.each([
    [{ to: TO }, 'validation', 'from must be an ISO-8601 date-time'],
    [{ from: 'yesterday', to: TO }, 'validation', 'from must be an ISO-8601 date-time'],
    [{ from: FROM, to: TO, format: 'xlsx' }, 'validation', 'format must be one of json, csv'],
    [{ from: TO, to: FROM }, 'invalid-window', 'to must be after from'],
    [{ from: FROM, to: FROM }, 'invalid-window', 'to must be after from'],
    [{ from: '2025-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z' }, 'invalid-window', 'from and to must be at most 366 days apart'],
  ])('refuses %j with a 400 naming the problem', async (query, error, message) => {
    const res = await report('uptime', query as Record<string, string>).expect(400);

    expect(res.body.error).toBe(error);
    expect([res.body.message].flat()).toContain(message);
  });

  it('accepts a period of exactly 366 days', async () => {
    await report('uptime', { areaCode: area.C1, from: '2025-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }).expect(200);
  });
});
