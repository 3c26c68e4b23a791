import { jest } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import type { AlarmDto } from '../src/alarms/dto/alarm.dto.js';
import type { LiveEventInput } from '../src/events/live-event.js';
import { LiveEvents } from '../src/events/live-events.service.js';
import { aDevice, connect, deviceState, dropLink, type ProvisionedDevice } from './support/devices.js';
import { anArea, anAreaTree } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';
import { aUser } from './support/users.js';

/**
 * Offline after 1 s of silence on a dropped link; alarms after 2 s offline by default,
 * cleared after 5 s back online; both sweeps every second.
 */
describe('offline alarms', () => {
  let t: TestApp;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      OFFLINE_GRACE_S: '1',
      LIVENESS_SWEEP_S: '1',
      ALARM_SWEEP_S: '1',
      ALARM_OFFLINE_AFTER_S: '2',
      ALARM_CLEAR_AFTER_S: '5',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(() => t.close());

  const online = async (speaker: ProvisionedDevice): Promise<MqttClient> => {
    const client = await connect(t, speaker.code, speaker.secret);
    clients.push(client);
    await eventually(async () => (await deviceState(t, speaker.code)) === 'online');
    return client;
  };

  /** The link dies without a goodbye; resolves once Loa has recorded the speaker offline. */
  const dropAndWaitOffline = async (speaker: ProvisionedDevice, client: MqttClient): Promise<void> => {
    dropLink(client);
    await eventually(async () => (await deviceState(t, speaker.code)) === 'offline');
  };

  const alarmsOf = async (code: string, auth = t.auth): Promise<AlarmDto[]> => {
    const res = await t.http().get('/api/v1/alarms?state=all&pageSize=500').set('Authorization', auth).expect(200);
    return (res.body.items as AlarmDto[]).filter((a) => a.deviceCode === code);
  };

  const openAlarmOf = (code: string): Promise<AlarmDto> =>
    eventually(async () => (await alarmsOf(code)).find((a) => a.state === 'open'));

  const aSpeakerWithAnOpenAlarm = async (areaCode: string) => {
    const speaker = await aDevice(t, { areaCode });
    await dropAndWaitOffline(speaker, await online(speaker));
    return { speaker, alarm: await openAlarmOf(speaker.code) };
  };

  const putThreshold = (areaCode: string, offlineAfterS: number | null) =>
    t.http().put(`/api/v1/alarm-thresholds/${areaCode}`).set('Authorization', t.auth).send({ offlineAfterS });

  it('opens an alarm for a speaker offline longer than the threshold and announces it', async () => {
    const publish = jest.spyOn(t.app.get(LiveEvents), 'publish');
    const { commune } = await anAreaTree(t);
    const speaker = await aDevice(t, { areaCode: commune, name: 'Loa chợ xã' });
    const client = await online(speaker);

    await dropAndWaitOffline(speaker, client);
    const alarm = await openAlarmOf(speaker.code);

    expect(alarm).toMatchObject({
      deviceCode: speaker.code,
      deviceName: 'Loa chợ xã',
      areaCode: commune,
      state: 'open',
      acknowledgedAt: null,
      acknowledgedBy: null,
      returnedAt: null,
      clearedAt: null,
      flaps: 0,
    });
    expect(Date.parse(alarm.openedAt) - Date.parse(alarm.offlineSince)).toBeGreaterThanOrEqual(2000);
    const announced = publish.mock.calls.flatMap(([events]) => events as LiveEventInput[]);
    expect(announced).toContainEqual({
      type: 'alarm.opened',
      areaPath: expect.stringContaining(`/${commune}/`),
      data: expect.objectContaining({ id: alarm.id, deviceCode: speaker.code }),
    });
    publish.mockRestore();
  });

  it('opens no alarm for a speaker back online within its area threshold', async () => {
    const { commune } = await anAreaTree(t);
    await putThreshold(commune, 5).expect(200);
    const back = await aDevice(t, { areaCode: commune });
    const away = await aDevice(t, { areaCode: commune });
    const backLink = await online(back);
    const awayLink = await online(away);

    await Promise.all([dropAndWaitOffline(back, backLink), dropAndWaitOffline(away, awayLink)]);
    await online(back);
    await openAlarmOf(away.code);

    expect(await alarmsOf(back.code)).toEqual([]);
  });

  it('uses the nearest ancestor threshold, an area’s own one first, else the default', async () => {
    const province = await anArea(t);
    const district = await anArea(t, { parentCode: province.code });
    const patient = await anArea(t, { parentCode: district.code });
    const strict = await anArea(t, { parentCode: district.code });
    const { commune: elsewhere } = await anAreaTree(t);

    expect((await putThreshold(province.code, 3600).expect(200)).body).toEqual({
      areaCode: province.code,
      offlineAfterS: 3600,
      effectiveOfflineAfterS: 3600,
      inheritedFrom: province.code,
    });
    await putThreshold(strict.code, 1).expect(200);
    const inherited = await t.http().get(`/api/v1/alarm-thresholds/${patient.code}`).set('Authorization', t.auth).expect(200);
    expect(inherited.body).toEqual({ areaCode: patient.code, offlineAfterS: null, effectiveOfflineAfterS: 3600, inheritedFrom: province.code });
    const defaulted = await t.http().get(`/api/v1/alarm-thresholds/${elsewhere}`).set('Authorization', t.auth).expect(200);
    expect(defaulted.body).toEqual({ areaCode: elsewhere, offlineAfterS: null, effectiveOfflineAfterS: 2, inheritedFrom: null });

    const inPatient = await aDevice(t, { areaCode: patient.code });
    const inStrict = await aDevice(t, { areaCode: strict.code });
    const inElsewhere = await aDevice(t, { areaCode: elsewhere });
    const links = await Promise.all([inPatient, inStrict, inElsewhere].map(online));
    await Promise.all([inPatient, inStrict, inElsewhere].map((s, i) => dropAndWaitOffline(s, links[i])));

    await openAlarmOf(inStrict.code);
    await openAlarmOf(inElsewhere.code);
    expect(await alarmsOf(inPatient.code)).toEqual([]);

    const removed = await putThreshold(province.code, null).expect(200);
    expect(removed.body).toMatchObject({ offlineAfterS: null, effectiveOfflineAfterS: 2, inheritedFrom: null });
    await openAlarmOf(inPatient.code);
  });

  it('lets only admins set thresholds and hides areas outside the caller’s scope', async () => {
    const mine = await anAreaTree(t);
    const other = await anAreaTree(t);
    const operator = await aUser(t, 'operator', mine.district);

    await t.http().put(`/api/v1/alarm-thresholds/${mine.commune}`).set('Authorization', operator.auth).send({ offlineAfterS: 60 }).expect(403);
    await t.http().get(`/api/v1/alarm-thresholds/${mine.commune}`).set('Authorization', operator.auth).expect(200);
    const hidden = await t.http().get(`/api/v1/alarm-thresholds/${other.commune}`).set('Authorization', operator.auth).expect(404);
    const missing = await t.http().get(`/api/v1/alarm-thresholds/nosuch-area`).set('Authorization', operator.auth).expect(404);
    expect(hidden.body.error).toBe(missing.body.error);
    await putThreshold(mine.commune, 0).expect(400);
    await putThreshold(mine.commune, 1.5).expect(400);
  });

  it('records who acknowledged an alarm, once, within their own district', async () => {
    const mine = await anAreaTree(t);
    const other = await anAreaTree(t);
    const { speaker, alarm } = await aSpeakerWithAnOpenAlarm(mine.commune);
    const operator = await aUser(t, 'operator', mine.district);
    const stranger = await aUser(t, 'operator', other.district);
    const editor = await aUser(t, 'editor', mine.district);
    const acknowledge = (auth: string, body: object = {}) =>
      t.http().post(`/api/v1/alarms/${alarm.id}/acknowledge`).set('Authorization', auth).send(body);

    const outside = await acknowledge(stranger.auth).expect(404);
    const unknown = await t.http().post(`/api/v1/alarms/00000000-0000-4000-8000-000000000000/acknowledge`).set('Authorization', stranger.auth).send({}).expect(404);
    await acknowledge(editor.auth).expect(403);
    const acked = await acknowledge(operator.auth, { note: 'Mất điện lưới, đã báo điện lực' }).expect(200);
    const again = await acknowledge(t.auth).expect(409);

    expect(outside.body.error).toBe(unknown.body.error);
    expect(await alarmsOf(speaker.code, stranger.auth)).toEqual([]);
    expect(acked.body).toMatchObject({ id: alarm.id, acknowledgedBy: operator.username, note: 'Mất điện lưới, đã báo điện lực', state: 'open' });
    expect(Date.parse(acked.body.acknowledgedAt)).toBeGreaterThanOrEqual(Date.parse(alarm.openedAt));
    expect(again.body.error).toBe('already-acknowledged');
    const listed = await t.http().get(`/api/v1/alarms?areaCode=${mine.commune}&acknowledged=true`).set('Authorization', operator.auth).expect(200);
    expect(listed.body.items.map((a: AlarmDto) => a.id)).toEqual([alarm.id]);
  });

  it('clears an alarm once the speaker has stayed back online for the hold time', async () => {
    const { commune } = await anAreaTree(t);
    const { speaker, alarm } = await aSpeakerWithAnOpenAlarm(commune);

    await online(speaker);
    const cleared = await eventually(async () => (await alarmsOf(speaker.code)).find((a) => a.state === 'cleared'), 15_000);

    expect(cleared.id).toBe(alarm.id);
    expect(Date.parse(cleared.clearedAt!) - Date.parse(cleared.returnedAt!)).toBeGreaterThanOrEqual(5000);
    const open = await t.http().get(`/api/v1/alarms?areaCode=${commune}`).set('Authorization', t.auth).expect(200);
    expect(open.body.items).toEqual([]);
  });

  it('clears the alarm of a decommissioned speaker', async () => {
    const { commune } = await anAreaTree(t);
    const { speaker, alarm } = await aSpeakerWithAnOpenAlarm(commune);

    await t.http().delete(`/api/v1/devices/${speaker.code}`).set('Authorization', t.auth).expect(204);

    const cleared = await eventually(async () => (await alarmsOf(speaker.code)).find((a) => a.state === 'cleared'));
    expect(cleared).toMatchObject({ id: alarm.id, returnedAt: null });
  });

  it('keeps one alarm open for a flapping speaker and counts its flaps', async () => {
    const { commune } = await anAreaTree(t);
    const { speaker, alarm } = await aSpeakerWithAnOpenAlarm(commune);

    for (let i = 0; i < 3; i++) await dropAndWaitOffline(speaker, await online(speaker));
    const flapped = await eventually(async () => (await alarmsOf(speaker.code)).find((a) => a.flaps === 3));

    expect(await alarmsOf(speaker.code)).toEqual([flapped]);
    expect(flapped).toMatchObject({ id: alarm.id, state: 'open', returnedAt: null });
    expect(Date.parse(flapped.offlineSince)).toBeGreaterThan(Date.parse(alarm.offlineSince));
  });
});
