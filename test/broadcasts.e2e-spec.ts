import { DataSource } from 'typeorm';
import type { PlayCommand, SchedulePayload } from '../src/broker/payloads.js';
import { deviceTopic } from '../src/broker/topics.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { aDevice, connect, nextMessage, subscribe } from './support/devices.js';
import { anArea, anAreaTree } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Broadcasts', () => {
  let t: TestApp;
  const online: TestFirmware[] = [];

  beforeAll(async () => {
    t = await startTestApp({ MISSED_GRACE_S: '2', PLAY_RETRY_S: '1' });
  });
  afterAll(async () => {
    await Promise.all(online.map((f) => f.close().catch(() => undefined)));
    await t.close();
  });

  const post = (body: object) => t.http().post('/api/v1/broadcasts').set('Authorization', t.auth).send(body);
  const getBroadcast = (id: string) => t.http().get(`/api/v1/broadcasts/${id}`).set('Authorization', t.auth);
  const deliveriesOf = async (occurrenceId: string) => {
    const res = await t.http().get(`/api/v1/occurrences/${occurrenceId}/deliveries`).set('Authorization', t.auth).expect(200);
    return new Map<string, string>(res.body.items.map((d: { deviceCode: string; status: string }) => [d.deviceCode, d.status]));
  };
  const firmware = async (areaPath: string[], opts: { autoAck?: boolean } = {}) => {
    const device = await aDevice(t, { areaCode: areaPath.at(-1)! });
    const f = await TestFirmware.online(t, device, areaPath, opts);
    online.push(f);
    return f;
  };
  const itemsOf = (schedule: SchedulePayload | undefined) => schedule?.items.map((i) => i.occurrenceId) ?? [];

  it('plays a once broadcast to an area on every speaker of its subtree and none outside, and logs it as run', async () => {
    const tree = await anAreaTree(t);
    const elsewhere = await anAreaTree(t);
    const inCommune = await firmware([tree.province, tree.district, tree.commune]);
    const inDistrict = await firmware([tree.province, tree.district]);
    const outside = await firmware([elsewhere.province, elsewhere.district, elsewhere.commune]);
    const bulletin = await anApprovedBulletin(t, { durationMs: 1000 });

    const res = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.district] }, schedule: { kind: 'once', startAt: inSeconds(3) }, priority: 'normal', volume: 70 });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'active', priority: 'normal', targetDeviceCount: 2, schedule: { kind: 'once' } });
    expect(res.body.occurrences).toHaveLength(1);
    const occurrenceId: string = res.body.occurrences[0].id;
    for (const speaker of [inCommune, inDistrict]) {
      const schedule = await eventually(async () => (itemsOf(speaker.latestSchedule).includes(occurrenceId) ? speaker.latestSchedule : null));
      const [item] = schedule.items;
      expect(item).toMatchObject({ broadcastId: res.body.id, priority: 'normal', volume: 70, startAt: res.body.occurrences[0].startAt });
      expect(item.media).toMatchObject({ durationMs: bulletin.durationMs, mime: 'audio/wav' });
      expect(schedule.timezone).toBe('Asia/Ho_Chi_Minh');
      await speaker.heartbeat(schedule.version);
    }
    await eventually(async () => [...(await deliveriesOf(occurrenceId)).values()].every((s) => s === 'delivered'));

    for (const speaker of [inCommune, inDistrict]) {
      await speaker.report('started', occurrenceId);
      await speaker.report('finished', occurrenceId);
    }

    const statuses = await eventually(async () => {
      const s = await deliveriesOf(occurrenceId);
      return [...s.values()].every((v) => v === 'finished') ? s : null;
    });
    expect([...statuses.keys()].sort()).toEqual([inCommune.device.code, inDistrict.device.code].sort());
    expect(outside.schedules.flatMap((s) => s.items)).toEqual([]);
    const detail = await getBroadcast(res.body.id).expect(200);
    expect(detail.body.occurrences[0].counts).toEqual({ finished: 2 });
  });

  it('materialises a weekday rule at 06:00 and 17:00 Hà Nội time over the horizon', async () => {
    const tree = await anAreaTree(t);
    const bulletin = await anApprovedBulletin(t);
    // Hà Nội's tomorrow, so that its midnight is ahead: UTC's tomorrow begins in Hà Nội's
    // past from 17:00 UTC on, and a startAt in the past is refused.
    const tomorrow = new Date(Date.now() + 7 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);

    const res = await post({
      bulletinId: bulletin.id,
      targets: { areaCodes: [tree.commune] },
      schedule: { kind: 'recurring', rrule: 'FREQ=DAILY;BYHOUR=6,17;BYMINUTE=0;BYSECOND=0', startAt: `${tomorrow}T00:00:00+07:00` },
      priority: 'normal',
    });

    expect(res.status).toBe(201);
    const starts: string[] = res.body.occurrences.map((o: { startAt: string }) => o.startAt);
    expect(starts.length).toBeGreaterThanOrEqual(4);
    expect(new Set(starts.map((s) => s.slice(11)))).toEqual(new Set(['23:00:00.000Z', '10:00:00.000Z']));
    expect(res.body.schedule).toMatchObject({ kind: 'recurring', timezone: 'Asia/Ho_Chi_Minh' });
  });

  it('sends a now emergency to a province: online speakers ack at once, a late one gets it on reconnect, an absent one misses it', async () => {
    const tree = await anAreaTree(t);
    const path = [tree.province, tree.district, tree.commune];
    const first = await firmware(path, { autoAck: true });
    const second = await firmware([tree.province, tree.district], { autoAck: true });
    const late = await aDevice(t, { areaCode: tree.commune });
    const absent = await aDevice(t, { areaCode: tree.commune });
    const bulletin = await anApprovedBulletin(t, { category: 'disaster' });

    const res = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.province] }, schedule: { kind: 'now' }, priority: 'emergency', expiresInS: 8 });

    expect(res.status).toBe(201);
    expect(res.body.targetDeviceCount).toBe(4);
    const occurrenceId: string = res.body.occurrences[0].id;
    for (const speaker of [first, second]) {
      const play = await eventually(async () => speaker.commands.find((c) => c.type === 'play'), 3000);
      expect(play).toMatchObject({ type: 'play', occurrenceId, priority: 'emergency' });
    }
    await eventually(async () => {
      const s = await deliveriesOf(occurrenceId);
      return s.get(first.device.code) === 'delivered' && s.get(second.device.code) === 'delivered';
    }, 5000);

    const reconnected = await TestFirmware.online(t, late, path, { autoAck: true });
    online.push(reconnected);
    const resent = await eventually(async () => reconnected.commands.find((c) => c.type === 'play'), 5000);
    expect(resent.id).toBe(first.commands.find((c) => c.type === 'play')!.id);
    await eventually(async () => (await deliveriesOf(occurrenceId)).get(late.code) === 'delivered', 5000);

    for (const speaker of [first, second, reconnected]) {
      await speaker.report('started', occurrenceId);
      await speaker.report('finished', occurrenceId);
    }

    const final = await eventually(async () => {
      const s = await deliveriesOf(occurrenceId);
      return s.get(absent.code) === 'missed' ? s : null;
    }, 15_000);
    expect(Object.fromEntries(final)).toEqual({
      [first.device.code]: 'finished',
      [second.device.code]: 'finished',
      [late.code]: 'finished',
      [absent.code]: 'missed',
    });
  });

  it('cancelling republishes schedules without the play and stops it where it already plays', async () => {
    const tree = await anAreaTree(t);
    const playing = await firmware([tree.province, tree.district, tree.commune]);
    const waiting = await firmware([tree.province, tree.district, tree.commune]);
    const bulletin = await anApprovedBulletin(t, { durationMs: 30_000 });
    const res = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'once', startAt: inSeconds(2) }, priority: 'normal' });
    const occurrenceId: string = res.body.occurrences[0].id;
    await eventually(async () => itemsOf(playing.latestSchedule).includes(occurrenceId) && itemsOf(waiting.latestSchedule).includes(occurrenceId));
    const versionBefore = waiting.latestSchedule!.version;
    await playing.report('started', occurrenceId);
    await eventually(async () => (await deliveriesOf(occurrenceId)).get(playing.device.code) === 'started');

    const cancelled = await t.http().post(`/api/v1/broadcasts/${res.body.id}/cancel`).set('Authorization', t.auth);

    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    await eventually(async () => waiting.latestSchedule!.version > versionBefore && !itemsOf(waiting.latestSchedule).includes(occurrenceId));
    const stop = await eventually(async () => playing.commands.find((c) => c.type === 'stop'));
    expect(stop).toMatchObject({ type: 'stop', occurrenceId });
    expect((await deliveriesOf(occurrenceId)).get(waiting.device.code)).toBe('cancelled');
    await playing.report('interrupted', occurrenceId);
    await eventually(async () => (await deliveriesOf(occurrenceId)).get(playing.device.code) === 'interrupted');
    await t.http().post(`/api/v1/broadcasts/${res.body.id}/cancel`).set('Authorization', t.auth).expect(409);
  });

  it("writes a now play's deliveries once its acks ebb, and a cancel meanwhile waits for them and cancels them", async () => {
    const tree = await anAreaTree(t);
    const speaker = await firmware([tree.province, tree.district, tree.commune]);
    const bulletin = await anApprovedBulletin(t, { durationMs: 60_000 });
    const db = t.app.get(DataSource);
    // `.then` sends the request now (supertest waits for it); the POST answers only after the wave.
    const posting = post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'now' }, priority: 'emergency' }).then((r) => r);
    const play = await eventually(async () => speaker.commands.find((c): c is PlayCommand => c.type === 'play'));
    // A wave of acks still arriving: the same speaker repeating its ack keeps it up.
    const acking = setInterval(() => void speaker.ack(play.id), 100);
    try {
      const list = await t.http().get(`/api/v1/broadcasts?bulletinId=${bulletin.id}`).set('Authorization', t.auth).expect(200);
      const broadcastId: string = list.body.items[0].id;
      await sleep(600);
      const [{ n: writtenDuringWave }] = await db.query(`SELECT count(*)::int AS n FROM deliveries WHERE occurrence_id = $1`, [play.occurrenceId]);
      let cancelAnswered = false;
      const cancelling = t.http().post(`/api/v1/broadcasts/${broadcastId}/cancel`).set('Authorization', t.auth).then((r) => {
        cancelAnswered = true;
        return r;
      });
      await sleep(600);
      const answeredDuringWave = cancelAnswered;
      clearInterval(acking);

      const [created, cancelled] = await Promise.all([posting, cancelling]);

      expect(writtenDuringWave).toBe(0);
      expect(answeredDuringWave).toBe(false);
      expect(created.status).toBe(201);
      expect(cancelled.status).toBe(200);
      expect(Object.fromEntries(await deliveriesOf(play.occurrenceId))).toEqual({ [speaker.device.code]: 'cancelled' });
    } finally {
      clearInterval(acking);
    }
  });

  it('refuses a same-priority overlap with the clashes, and lets a higher priority pre-empt the lower', async () => {
    const tree = await anAreaTree(t);
    const speaker = await firmware([tree.province, tree.district, tree.commune]);
    const bulletin = await anApprovedBulletin(t, { durationMs: 5000 });
    const at = inSeconds(120);
    const first = await post({ bulletinId: bulletin.id, targets: { deviceCodes: [speaker.device.code] }, schedule: { kind: 'once', startAt: at }, priority: 'normal' }).expect(201);
    const overlapping = new Date(Date.parse(at) + 2000).toISOString();

    const clash = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'once', startAt: overlapping }, priority: 'normal' });

    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ error: 'overlap', clashes: [{ broadcastId: first.body.id, priority: 'normal', deviceCount: 1 }] });

    const urgent = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'once', startAt: overlapping }, priority: 'high' });

    expect(urgent.status).toBe(201);
    expect(urgent.body.preempted).toEqual({ others: 1, own: 0 });
    expect((await deliveriesOf(first.body.occurrences[0].id)).get(speaker.device.code)).toBe('preempted');
    const schedule = await eventually(async () =>
      itemsOf(speaker.latestSchedule).includes(urgent.body.occurrences[0].id) ? speaker.latestSchedule : null,
    );
    expect(itemsOf(schedule)).toEqual([urgent.body.occurrences[0].id]);
    const list = await t.http().get('/api/v1/broadcasts?priority=high').set('Authorization', t.auth).expect(200);
    expect(list.body.items.map((b: { id: string }) => b.id)).toContain(urgent.body.id);
  });

  it('refuses a now broadcast over one still playing at the same priority, and sends it nowhere', async () => {
    const tree = await anAreaTree(t);
    const speaker = await firmware([tree.province, tree.district, tree.commune], { autoAck: true });
    const bulletin = await anApprovedBulletin(t, { durationMs: 60_000 });
    const first = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'now' }, priority: 'emergency' }).expect(201);
    await eventually(async () => speaker.commands.some((c) => c.type === 'play'));

    const second = await post({ bulletinId: bulletin.id, targets: { deviceCodes: [speaker.device.code] }, schedule: { kind: 'now' }, priority: 'emergency' });

    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'overlap', clashes: [{ broadcastId: first.body.id, priority: 'emergency', deviceCount: 1 }] });
    const list = await t.http().get(`/api/v1/broadcasts?bulletinId=${bulletin.id}`).set('Authorization', t.auth).expect(200);
    expect(list.body.items.map((b: { id: string }) => b.id)).toEqual([first.body.id]);
    await sleep(500);
    // The first broadcast's play may come again, with the same id, while its ack is not yet
    // recorded: that is the protocol's retry (PLAY_RETRY_S is 1 s here, and under load the
    // ack can take longer to reach Postgres). The refused broadcast's play must not come at all.
    const plays = speaker.commands.flatMap((c) => (c.type === 'play' ? [c] : []));
    expect(new Set(plays.map((c) => c.occurrenceId))).toEqual(new Set([first.body.occurrences[0].id]));
    expect(new Set(plays.map((c) => c.id)).size).toBe(1);
  });

  it('lets a now broadcast of higher priority pre-empt a scheduled play, and takes it out of the schedule', async () => {
    const tree = await anAreaTree(t);
    const speaker = await firmware([tree.province, tree.district, tree.commune], { autoAck: true });
    const bulletin = await anApprovedBulletin(t, { durationMs: 30_000 });
    const scheduled = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'once', startAt: inSeconds(10) }, priority: 'normal' }).expect(201);
    const scheduledId: string = scheduled.body.occurrences[0].id;
    await eventually(async () => itemsOf(speaker.latestSchedule).includes(scheduledId));

    const urgent = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.district] }, schedule: { kind: 'now' }, priority: 'high' });

    expect(urgent.status).toBe(201);
    expect(urgent.body.preempted).toEqual({ others: 1, own: 0 });
    expect(urgent.body.targetDeviceCount).toBe(1);
    expect((await deliveriesOf(scheduledId)).get(speaker.device.code)).toBe('preempted');
    await eventually(async () => (await deliveriesOf(urgent.body.occurrences[0].id)).get(speaker.device.code) === 'delivered');
    await eventually(async () => speaker.latestSchedule !== undefined && !itemsOf(speaker.latestSchedule).includes(scheduledId));
  });

  it('gives a speaker added to a targeted area later its share of the upcoming plays', async () => {
    const tree = await anAreaTree(t);
    const bulletin = await anApprovedBulletin(t);
    const res = await post({ bulletinId: bulletin.id, targets: { areaCodes: [tree.district] }, schedule: { kind: 'once', startAt: inSeconds(300) }, priority: 'normal' }).expect(201);
    expect(res.body.targetDeviceCount).toBe(0);

    const newcomer = await firmware([tree.province, tree.district, tree.commune]);

    await eventually(async () => itemsOf(newcomer.latestSchedule).includes(res.body.occurrences[0].id));
    expect((await getBroadcast(res.body.id)).body.targetDeviceCount).toBe(1);
  });

  it('keeps the schedule retained, so a speaker restarting mid-schedule gets it back at once', async () => {
    const tree = await anAreaTree(t);
    const device = await aDevice(t, { areaCode: tree.commune });
    const bulletin = await anApprovedBulletin(t);
    const res = await post({ bulletinId: bulletin.id, targets: { deviceCodes: [device.code] }, schedule: { kind: 'once', startAt: inSeconds(300) }, priority: 'normal' }).expect(201);
    await sleep(500);

    const client = await connect(t, device.code, device.secret, { clean: true });
    const retained = nextMessage(client, deviceTopic(device.code, 'schedule'));
    await subscribe(client, deviceTopic(device.code, 'schedule'));
    const message = await retained;
    await client.endAsync();

    expect(message.retain).toBe(true);
    expect(JSON.parse(message.payload.toString()).items.map((i: { occurrenceId: string }) => i.occurrenceId)).toEqual([res.body.occurrences[0].id]);
  });

  describe('refuses bad requests and creates nothing', () => {
    let areaCode: string;
    let bulletinId: string;
    const count = async () => (await t.http().get('/api/v1/broadcasts?pageSize=1').set('Authorization', t.auth).expect(200)).body.total as number;

    beforeAll(async () => {
      areaCode = (await anArea(t)).code;
      bulletinId = (await anApprovedBulletin(t)).id;
    });

    it.each([
      ['an unknown area', () => ({ targets: { areaCodes: ['x-nowhere'] } }), 400, 'unknown-targets'],
      ['an unknown device', () => ({ targets: { deviceCodes: ['no-such-speaker'] } }), 400, 'unknown-targets'],
      ['no targets', () => ({ targets: {} }), 400, 'validation'],
      ['a startAt in the past', () => ({ schedule: { kind: 'once', startAt: inSeconds(-60) } }), 400, 'validation'],
      ['a startAt without offset', () => ({ schedule: { kind: 'once', startAt: '2030-01-01T06:00:00' } }), 400, 'validation'],
      ['an invalid rrule', () => ({ schedule: { kind: 'recurring', rrule: 'FREQ=SOMETIMES', startAt: inSeconds(60) } }), 400, 'validation'],
      ['a rrule with an hour out of range', () => ({ schedule: { kind: 'recurring', rrule: 'FREQ=DAILY;BYHOUR=24', startAt: inSeconds(60) } }), 400, 'validation'],
      ['an unknown time zone', () => ({ schedule: { kind: 'recurring', rrule: 'FREQ=DAILY', startAt: inSeconds(60), timezone: 'Asia/Atlantis' } }), 400, 'validation'],
      ['an unknown priority', () => ({ priority: 'urgent' }), 400, 'validation'],
      ['a volume over 100', () => ({ volume: 101 }), 400, 'validation'],
      ['an unknown bulletin', () => ({ bulletinId: '00000000-0000-4000-8000-000000000000' }), 404, 'not-found'],
    ])('%s', async (_what, change, status, error) => {
      const before = await count();

      const res = await post({ bulletinId, targets: { areaCodes: [areaCode] }, schedule: { kind: 'once', startAt: inSeconds(600) }, priority: 'normal', ...change() });

      expect(res.status).toBe(status);
      expect(res.body.error).toBe(error);
      expect(await count()).toBe(before);
    });

    it('an unapproved bulletin', async () => {
      const draft = await t.http().post('/api/v1/bulletins').set('Authorization', t.auth).send({ title: 'Nháp', category: 'news', mediaId: (await anApprovedBulletin(t)).mediaId }).expect(201);
      const before = await count();

      const res = await post({ bulletinId: draft.body.id, targets: { areaCodes: [areaCode] }, schedule: { kind: 'now' }, priority: 'emergency' });

      expect(res.status).toBe(409);
      expect(res.body.error).toBe('not-approved');
      expect(await count()).toBe(before);
    });
  });
});
