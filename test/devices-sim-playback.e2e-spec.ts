import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerService } from '../src/broker/broker.service.js';
import type { CommandAck, CommandPayload, MediaPayload, PlaybackEvent, Priority, SchedulePayload, ScheduleItem } from '../src/broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { DeviceInbox } from '../src/devices/device-inbox.js';
import { MediaService } from '../src/media/media.service.js';
import { startDemoBroadcast } from '../devices-sim/demo-broadcast.js';
import { startFleet, type Fleet } from '../devices-sim/fleet.js';
import { LoaApi } from '../devices-sim/loa-api.js';
import { SimulatedSpeaker, type SpeakerOptions } from '../devices-sim/speaker.js';
import { aDevice, type ProvisionedDevice } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { uploadAudio } from './support/media.js';
import { ADMIN, eventually, startTestApp, type TestApp } from './support/test-app.js';

/** Media the speakers are told about but never download (downloadMedia is off unless a test says so). */
const unfetched = (durationMs: number): MediaPayload => ({
  url: 'http://127.0.0.1:9/never-fetched',
  sha256: '0'.repeat(64),
  bytes: 1,
  durationMs,
  mime: 'audio/wav',
});

describe('devices-sim playback: the reference client plays its schedule and obeys commands', () => {
  let t: TestApp;
  let broker: BrokerService;
  let tree: { province: string; district: string; commune: string };
  const speakers: SimulatedSpeaker[] = [];
  /** What Loa's gateway accepted from each device, in arrival order. */
  const received = new Map<string, { events: PlaybackEvent[]; acks: CommandAck[]; versions: number[] }>();
  const heard = (code: string) => {
    if (!received.has(code)) received.set(code, { events: [], acks: [], versions: [] });
    return received.get(code)!;
  };
  let nextVersion = 1000;

  beforeAll(async () => {
    t = await startTestApp({ HEARTBEAT_INTERVAL_S: '1' });
    broker = t.app.get(BrokerService);
    tree = await anAreaTree(t);
    t.app.get(DeviceInbox).subscribe({
      onPlaybackEvent: (code, event) => heard(code).events.push(event),
      onAck: (code, ack) => heard(code).acks.push(ack),
      onScheduleVersion: (code, version) => heard(code).versions.push(version),
    });
  });
  afterAll(async () => {
    await Promise.all(speakers.map((s) => s.stop()));
    await t.close();
  });

  const boot = async (device: ProvisionedDevice, options: Partial<SpeakerOptions> = {}) => {
    const speaker = new SimulatedSpeaker({
      code: device.code,
      secret: device.secret,
      mqttUrl: t.mqttUrl,
      areaCodes: [tree.province, tree.district, tree.commune],
      defaultHeartbeatIntervalS: 1,
      ...options,
    });
    speakers.push(speaker);
    speaker.start();
    // The retained config arrives once the subscriptions (area topics included) are granted.
    await eventually(async () => speaker.config !== null);
    return speaker;
  };
  const aSpeaker = async (options: Partial<SpeakerOptions> = {}) => {
    const device = await aDevice(t, { areaCode: tree.commune });
    return { device, speaker: await boot(device, options) };
  };
  const anItem = (startAtMs: number, durationMs: number, priority: Priority = 'normal'): ScheduleItem => ({
    occurrenceId: randomUUID(),
    broadcastId: randomUUID(),
    startAt: new Date(startAtMs).toISOString(),
    priority,
    media: unfetched(durationMs),
  });
  const publishSchedule = async (code: string, items: ScheduleItem[]) => {
    const schedule: SchedulePayload = { version: nextVersion++, generatedAt: new Date().toISOString(), timezone: 'Asia/Ho_Chi_Minh', items };
    await broker.publish(deviceTopic(code, 'schedule'), schedule, { retain: true, qos: 1 });
    return schedule;
  };
  const aCommand = <C extends CommandPayload>(fields: Omit<C, 'id' | 'issuedAt' | 'expiresAt'> & { expiresAt?: string }): C =>
    ({ id: randomUUID(), issuedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(), ...fields }) as C;
  const eventsOf = (code: string, occurrenceId: string) =>
    heard(code)
      .events.filter((e) => e.occurrenceId === occurrenceId)
      .map((e) => (e.reason ? `${e.type} (${e.reason})` : e.type));
  const timeOf = (code: string, occurrenceId: string, type: PlaybackEvent['type']) =>
    Date.parse(heard(code).events.find((e) => e.occurrenceId === occurrenceId && e.type === type)!.at);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('plays a schedule item at its time, reports started then finished, and heartbeats the schedule version', async () => {
    const { device, speaker } = await aSpeaker();
    const startAtMs = Date.now() + 1000;
    const item = anItem(startAtMs, 1000);

    const schedule = await publishSchedule(device.code, [item]);

    await eventually(async () => eventsOf(device.code, item.occurrenceId).includes('finished'), 5000);
    expect(eventsOf(device.code, item.occurrenceId)).toEqual(['started', 'finished']);
    expect(timeOf(device.code, item.occurrenceId, 'started') - startAtMs).toBeGreaterThanOrEqual(0);
    expect(timeOf(device.code, item.occurrenceId, 'started') - startAtMs).toBeLessThan(300);
    expect(timeOf(device.code, item.occurrenceId, 'finished') - startAtMs).toBeGreaterThanOrEqual(1000);
    expect(speaker.schedule?.version).toBe(schedule.version);
    await eventually(async () => heard(device.code).versions.includes(schedule.version), 3000);
  });

  it('cancels the items a newer schedule leaves out, stopping the one that plays', async () => {
    const { device } = await aSpeaker();
    const playing = anItem(Date.now(), 5000);
    const later = anItem(Date.now() + 1500, 500);
    await publishSchedule(device.code, [playing, later]);
    await eventually(async () => eventsOf(device.code, playing.occurrenceId).includes('started'));

    await publishSchedule(device.code, []);

    await eventually(async () => eventsOf(device.code, playing.occurrenceId).length === 2);
    await sleep(2000);
    expect(eventsOf(device.code, playing.occurrenceId)).toEqual(['started', 'interrupted (cancelled)']);
    expect(eventsOf(device.code, later.occurrenceId)).toEqual([]);
  });

  it('resumes mid-schedule after a power cut, from the retained schedule, and skips silently what is already over', async () => {
    const { device, speaker } = await aSpeaker();
    const startAtMs = Date.now() + 300;
    const current = anItem(startAtMs, 3000);
    const over = anItem(Date.now() - 60_000, 1000);
    await publishSchedule(device.code, [over, current]);
    await eventually(async () => speaker.playing?.occurrenceId === current.occurrenceId);

    speaker.kill();
    const rebooted = await boot(device);

    await eventually(async () => rebooted.playing?.occurrenceId === current.occurrenceId);
    await eventually(async () => eventsOf(device.code, current.occurrenceId).includes('finished'), 5000);
    expect(eventsOf(device.code, current.occurrenceId)).toEqual(['started', 'started', 'finished']);
    // It resumed where the bulletin would be by now, so it ends on time.
    expect(timeOf(device.code, current.occurrenceId, 'finished') - (startAtMs + 3000)).toBeLessThan(300);
    expect(eventsOf(device.code, over.occurrenceId)).toEqual([]);
  });

  it('lets an emergency play on an area topic interrupt a normal item', async () => {
    const { device, speaker } = await aSpeaker();
    const normal = anItem(Date.now(), 5000);
    await publishSchedule(device.code, [normal]);
    await eventually(async () => speaker.playing?.occurrenceId === normal.occurrenceId);
    const arrivals: number[] = [];
    speaker.on('command', (_command, receivedAtMs) => arrivals.push(receivedAtMs));
    const emergency = aCommand<Extract<CommandPayload, { type: 'play' }>>({
      type: 'play',
      occurrenceId: randomUUID(),
      priority: 'emergency',
      media: unfetched(800),
    });

    const sentAtMs = Date.now();
    await broker.publish(areaCommandsTopic(tree.province), emergency, { qos: 1 });

    await eventually(async () => eventsOf(device.code, emergency.occurrenceId).includes('finished'), 5000);
    expect(heard(device.code).acks).toEqual([{ commandId: emergency.id, status: 'ok' }]);
    expect(eventsOf(device.code, normal.occurrenceId)).toEqual(['started', 'interrupted (preempted)']);
    expect(eventsOf(device.code, emergency.occurrenceId)).toEqual(['started', 'finished']);
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0] - sentAtMs).toBeLessThan(1000);
  });

  it('acts on and acks a command once when it arrives on two topics, and acks it again when Loa retries later', async () => {
    const { device, speaker } = await aSpeaker();
    const play = aCommand<Extract<CommandPayload, { type: 'play' }>>({
      type: 'play',
      occurrenceId: randomUUID(),
      priority: 'high',
      media: unfetched(500),
    });

    await broker.publish(areaCommandsTopic(tree.commune), play, { qos: 1 });
    await broker.publish(deviceTopic(device.code, 'commands'), play, { qos: 1 });

    await eventually(async () => eventsOf(device.code, play.occurrenceId).includes('finished'));
    expect(heard(device.code).acks).toEqual([{ commandId: play.id, status: 'ok' }]);
    expect(speaker.duplicateCommands).toBe(1);

    await sleep(2100);
    await broker.publish(deviceTopic(device.code, 'commands'), play, { qos: 1 });

    await eventually(async () => heard(device.code).acks.length === 2);
    expect(heard(device.code).acks[1]).toEqual({ commandId: play.id, status: 'ok' });
    expect(eventsOf(device.code, play.occurrenceId)).toEqual(['started', 'finished']);
  });

  it('acks a command past its expiresAt as rejected, and does not act on it', async () => {
    const { device } = await aSpeaker();
    const stale = aCommand<Extract<CommandPayload, { type: 'play' }>>({
      type: 'play',
      occurrenceId: randomUUID(),
      priority: 'emergency',
      media: unfetched(500),
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });

    await broker.publish(deviceTopic(device.code, 'commands'), stale, { qos: 1 });

    await eventually(async () => heard(device.code).acks.length === 1);
    expect(heard(device.code).acks).toEqual([{ commandId: stale.id, status: 'rejected', error: 'expired' }]);
    await sleep(300);
    expect(eventsOf(device.code, stale.occurrenceId)).toEqual([]);
  });

  it('takes set_volume from the commands API and reports the volume in its next heartbeat', async () => {
    const { device } = await aSpeaker();

    const issued = await t
      .http()
      .post(`/api/v1/devices/${device.code}/commands`)
      .set('Authorization', t.auth)
      .send({ type: 'set_volume', volume: 35 })
      .expect(202);

    await eventually(async () => {
      const res = await t.http().get(`/api/v1/devices/${device.code}`).set('Authorization', t.auth).expect(200);
      return res.body.telemetry?.volume === 35;
    }, 5000);
    expect(heard(device.code).acks).toEqual([{ commandId: issued.body.id, status: 'ok' }]);
  });

  describe('with downloadMedia', () => {
    const signedPayload = async (durationMs: number) => {
      const uploaded = await uploadAudio(t, { durationMs });
      const media = t.app.get(MediaService);
      return media.devicePayload(await media.findOrFail(uploaded.id)) as Extract<MediaPayload, { url: string }>;
    };
    const aPlay = (media: MediaPayload) =>
      aCommand<Extract<CommandPayload, { type: 'play' }>>({ type: 'play', occurrenceId: randomUUID(), priority: 'normal', media });

    it('fetches each file once by its signed URL, checks its sha256, and plays it', async () => {
      const { device, speaker } = await aSpeaker({ downloadMedia: true });
      const media = await signedPayload(600);
      const first = { ...anItem(Date.now() + 800, 600), media };
      const second = { ...anItem(Date.now() + 1600, 600), media };

      await publishSchedule(device.code, [first, second]);

      await eventually(async () => eventsOf(device.code, second.occurrenceId).includes('finished'), 5000);
      expect(eventsOf(device.code, first.occurrenceId)).toEqual(['started', 'finished']);
      expect(eventsOf(device.code, second.occurrenceId)).toEqual(['started', 'finished']);
      expect(speaker.media?.downloads).toBe(1);
    });

    it('reports failed, and plays nothing, when the sha256 does not match or the download is refused', async () => {
      const { device } = await aSpeaker({ downloadMedia: true });
      const tampered = aPlay({ ...(await signedPayload(500)), sha256: 'f'.repeat(64) });
      const good = await signedPayload(700);
      const unsigned = aPlay({ ...good, url: good.url.replace(/token=.*/, 'token=forged') });

      await broker.publish(deviceTopic(device.code, 'commands'), tampered, { qos: 1 });
      await broker.publish(deviceTopic(device.code, 'commands'), unsigned, { qos: 1 });

      await eventually(async () => eventsOf(device.code, tampered.occurrenceId).length + eventsOf(device.code, unsigned.occurrenceId).length === 2);
      expect(eventsOf(device.code, tampered.occurrenceId)).toEqual([expect.stringMatching(/^failed \(sha256 mismatch/)]);
      expect(eventsOf(device.code, unsigned.occurrenceId)).toEqual([expect.stringMatching(/^failed \(download failed: HTTP 4\d\d\)$/)]);
      expect(heard(device.code).acks.map((a) => a.status)).toEqual(['ok', 'ok']);
    });
  });

  describe('the demo broadcast (--demo-broadcast)', () => {
    let fleet: Fleet;
    afterAll(() => fleet?.stop());

    it('uploads a chime, approves a bulletin, broadcasts it to the fleet area, and the fleet plays it', async () => {
      const { province } = await anAreaTree(t);
      fleet = await startFleet({
        apiUrl: t.apiUrl,
        mqttUrl: t.mqttUrl,
        username: ADMIN.username,
        password: ADMIN.password,
        count: 3,
        area: province,
        prefix: 'simdemo',
        fleetFile: join(mkdtempSync(join(tmpdir(), 'loa-sim-')), 'fleet.json'),
        downloadMedia: true,
      });
      await eventually(async () => fleet.stats().connected === 3);
      const api = new LoaApi(t.apiUrl, ADMIN.username, ADMIN.password);
      const earlier = await startDemoBroadcast(api, fleet, province, { firstPlayInMs: 60_000 });

      const demo = await startDemoBroadcast(api, fleet, province, { firstPlayInMs: 2000 });

      await eventually(async () => demo.tally().finished === 3, 15_000);
      expect(demo.tally()).toEqual({ started: 3, finished: 3, failed: 0, interrupted: 0, skipped: 0 });
      expect(demo.summary()).toMatch(/^demo broadcast: 3 started, 3 finished; next play /);
      const cancelled = await t.http().get(`/api/v1/broadcasts/${earlier.id}`).set('Authorization', t.auth).expect(200);
      expect(cancelled.body.state).toBe('cancelled');
      expect(fleet.speakers.every((s) => s.media?.downloads === 1)).toBe(true);
    });
  });
});
