import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { BrokerService } from '../src/broker/broker.service.js';
import type { SchedulePayload } from '../src/broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { DeviceGateway } from '../src/devices/device-gateway.service.js';
import { LivenessProcessor } from '../src/devices/liveness/liveness.processor.js';
import { LivenessStore } from '../src/devices/liveness/liveness.store.js';
import { RedisService } from '../src/redis/redis.module.js';
import { JOBS } from '../src/queues/queues.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { aDevice, closed, connect, dropLink, nextMessage, subscribe, type ProvisionedDevice } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { eventually, REDIS_URL, startTestApp, type TestApp } from './support/test-app.js';

/** Instances in one process would share the default `<hostname>-<pid>` broker id; a cluster needs them unique. */
const instance = (id: string) => ({ CLUSTER: 'true', BROKER_ID: `loa-${id}`, OFFLINE_GRACE_S: '2', LIVENESS_SWEEP_S: '1' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

/**
 * Two Loa instances in cluster mode on one database and one Redis prefix, as behind a TCP
 * load balancer: whichever instance a speaker or an operator reaches, the outcome is the same.
 */
describe('Loa as a cluster of instances', () => {
  let a: TestApp;
  let b: TestApp;
  const firmwares: TestFirmware[] = [];
  const clients: MqttClient[] = [];
  const thirdInstances: TestApp[] = [];

  beforeAll(async () => {
    a = await startTestApp(instance('a'));
    b = await startTestApp(instance('b'), { joining: a });
  });
  afterEach(async () => {
    await Promise.all(firmwares.splice(0).map((f) => f.client.endAsync(true)));
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(thirdInstances.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const online = async (on: TestApp, device: ProvisionedDevice, areaPath: string[], opts: { autoAck?: boolean } = {}) => {
    const firmware = await TestFirmware.online(on, device, areaPath, opts);
    firmwares.push(firmware);
    return firmware;
  };
  const link = async (on: TestApp, device: ProvisionedDevice, options: Parameters<typeof connect>[3] = {}) => {
    const client = await connect(on, device.code, device.secret, options);
    clients.push(client);
    return client;
  };
  /**
   * Instance c, for the tests that stop one. Closed after the test too (closing is
   * idempotent): a failed assertion would otherwise leave it running, and its sockets and
   * timers would keep the Jest worker from exiting.
   */
  const aThirdInstance = async (env: Record<string, string> = {}) => {
    const c = await startTestApp({ ...instance('c'), ...env }, { joining: a });
    thirdInstances.push(c);
    return c;
  };
  /** A speaker that subscribed to its commands with a persistent session on A, then left. */
  const anAbsentPersistentSession = async () => {
    const { commune } = await anAreaTree(a);
    const device = await aDevice(a, { areaCode: commune });
    const session = { clean: false };
    const before = await link(a, device, session);
    await subscribe(before, deviceTopic(device.code, 'commands'));
    await before.endAsync();
    return { device, session };
  };
  const aSyncCommand = () => ({ id: randomUUID(), type: 'sync', issuedAt: new Date().toISOString(), expiresAt: inMinutes(10) });
  const stateOf = async (code: string) =>
    (await a.http().get(`/api/v1/devices/${code}`).set('Authorization', a.auth).expect(200)).body.state as string;
  const history = async (code: string) =>
    ((await a.http().get(`/api/v1/devices/${code}/state-changes`).set('Authorization', a.auth).expect(200)).body.items as {
      to: string;
      cause: string;
    }[])
      .reverse()
      .map((c) => `${c.to}:${c.cause}`);
  const deliveriesOf = async (on: TestApp, occurrenceId: string) => {
    const res = await on.http().get(`/api/v1/occurrences/${occurrenceId}/deliveries`).set('Authorization', on.auth).expect(200);
    return new Map<string, string>(res.body.items.map((d: { deviceCode: string; status: string }) => [d.deviceCode, d.status]));
  };

  it('delivers an emergency created through instance B to speakers connected to A, and records their acks', async () => {
    const tree = await anAreaTree(a);
    const path = [tree.province, tree.district, tree.commune];
    const onA = await online(a, await aDevice(a, { areaCode: tree.commune }), path, { autoAck: true });
    const onB = await online(b, await aDevice(b, { areaCode: tree.commune }), path, { autoAck: true });
    const bulletin = await anApprovedBulletin(b, { category: 'disaster' });

    const res = await b
      .http()
      .post('/api/v1/broadcasts')
      .set('Authorization', b.auth)
      .send({ bulletinId: bulletin.id, targets: { areaCodes: [tree.province] }, schedule: { kind: 'now' }, priority: 'emergency' });

    expect(res.status).toBe(201);
    const occurrenceId: string = res.body.occurrences[0].id;
    for (const speaker of [onA, onB]) {
      const play = await eventually(async () => speaker.commands.find((c) => c.type === 'play'));
      expect(play).toMatchObject({ occurrenceId, priority: 'emergency' });
    }
    const statuses = await eventually(async () => {
      const s = await deliveriesOf(b, occurrenceId);
      return [...s.values()].every((v) => v === 'delivered') ? s : null;
    });
    expect([...statuses.keys()].sort()).toEqual([onA.device.code, onB.device.code].sort());
  });

  it('gives a speaker that moves from A to B its retained Schedule there, without an offline spell', async () => {
    const tree = await anAreaTree(a);
    const device = await aDevice(a, { areaCode: tree.commune });
    const first = await online(a, device, [tree.commune]);
    const bulletin = await anApprovedBulletin(a);
    const res = await a
      .http()
      .post('/api/v1/broadcasts')
      .set('Authorization', a.auth)
      .send({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'once', startAt: inMinutes(60) }, priority: 'normal' });
    expect(res.status).toBe(201);
    const schedule = await eventually(async () => (first.latestSchedule?.items.length ? first.latestSchedule : null));

    dropLink(first.client);
    const moved = await link(b, device);
    const retained = nextMessage(moved, deviceTopic(device.code, 'schedule'));
    await subscribe(moved, deviceTopic(device.code, 'schedule'));

    const received = await retained;
    expect(received.retain).toBe(true);
    expect(JSON.parse(received.payload.toString()) as SchedulePayload).toEqual(schedule);
    await sleep(3500); // past the 2 s grace and a sweep
    expect(await stateOf(device.code)).toBe('online');
    expect(await history(device.code)).toEqual(['online:connected']);
  });

  it('keeps one session when a speaker connects to B while still connected to A, and stays online', async () => {
    const { commune } = await anAreaTree(a);
    const device = await aDevice(a, { areaCode: commune });
    const onA = await link(a, device);
    await eventually(async () => (await stateOf(device.code)) === 'online');

    const onB = await link(b, device);

    await closed(onA);
    expect(a.app.get(BrokerService).connectedClients).toBe(0);
    expect(b.app.get(BrokerService).connectedClients).toBe(1);
    await sleep(3500);
    expect(onB.connected).toBe(true);
    expect(await stateOf(device.code)).toBe('online');
    expect(await history(device.code)).toEqual(['online:connected']);
  });

  it('hands a persistent session its QoS 1 command queued while it was away, on the other instance', async () => {
    const { device, session } = await anAbsentPersistentSession();
    const command = aSyncCommand();

    await a.app.get(BrokerService).publish(deviceTopic(device.code, 'commands'), command, { qos: 1 });
    const queued = new Promise<Buffer>((resolve) => {
      const listen = (client: MqttClient) => client.on('message', (_topic, payload) => resolve(payload));
      void link(b, device, session).then(listen);
    });

    expect(JSON.parse((await queued).toString())).toEqual(command);
  });

  it('hands a persistent session a queued command once: after its PUBACK the command is gone from the session', async () => {
    const { device, session } = await anAbsentPersistentSession();
    const command = aSyncCommand();
    await a.app.get(BrokerService).publish(deviceTopic(device.code, 'commands'), command, { qos: 1 });
    const received: string[] = [];
    const listen = (client: MqttClient) => client.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).id));

    // mqtt.js PUBACKs on receipt; the next connect then finds nothing queued, on either instance.
    const taker = await link(b, device, session);
    listen(taker);
    await eventually(async () => received.length === 1);
    await sleep(300);
    await taker.endAsync();
    listen(await link(a, device, session));
    await sleep(1000);

    expect(received).toEqual([command.id]);
  });

  it('queues an area-wide command for every absent persistent session, kept until the last of them has taken it', async () => {
    const { commune } = await anAreaTree(a);
    const devices = [await aDevice(a, { areaCode: commune }), await aDevice(a, { areaCode: commune }), await aDevice(a, { areaCode: commune })];
    const session = { clean: false };
    for (const device of devices) {
      const before = await link(a, device, session);
      await subscribe(before, areaCommandsTopic(commune));
      await before.endAsync();
    }
    const command = aSyncCommand();

    await a.app.get(BrokerService).publish(areaCommandsTopic(commune), command, { qos: 1 });

    // One at a time, alternating instances: each PUBACK lowers the packet's count, and the
    // packet must outlive every PUBACK but the last.
    for (const [i, device] of devices.entries()) {
      const queued = new Promise<Buffer>((resolve, reject) => {
        setTimeout(() => reject(new Error(`speaker ${i + 1} of 3 was not handed the queued command`)), 5000);
        const listen = (client: MqttClient) => client.on('message', (_topic, payload) => resolve(payload));
        void link(i % 2 ? a : b, device, session).then(listen);
      });
      expect(JSON.parse((await queued).toString())).toEqual(command);
      await sleep(300);
    }
  });

  it('keeps what speakers send off Redis, and subscribes to no pattern but Aedes\' own $SYS ones', async () => {
    const channels = `${a.config.REDIS_PREFIX}:mqtt:`;
    const monitor = new Redis(REDIS_URL);
    const seen: string[] = [];
    monitor.on('pmessage', (_pattern: string, channel: string) => seen.push(channel.slice(channels.length)));
    await monitor.psubscribe(`${channels}*`);
    const { commune } = await anAreaTree(a);
    const device = await aDevice(a, { areaCode: commune });
    const speaker = await online(a, device, [commune]);

    await speaker.heartbeat(1);
    await speaker.report('started', randomUUID());
    await speaker.ack(randomUUID());
    // Published after them on the same connection: once it shows, they would have.
    await a.app.get(BrokerService).publish(deviceTopic(device.code, 'commands'), { id: randomUUID(), type: 'sync' });
    await eventually(async () => seen.includes(deviceTopic(device.code, 'commands')));

    try {
      expect(seen.filter((topic) => topic.startsWith('$loa') || /\/(heartbeat|events|acks)$/.test(topic))).toEqual([]);
      const connections = ((await a.app.get(RedisService).client.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${a.config.REDIS_PREFIX}:mqtt-sub:`));
      expect(connections).toHaveLength(2);
      // $SYS/+/heartbeat, /birth, /new/clients (Aedes) and $SYS/sub/+ (the persistence).
      for (const line of connections) expect(line).toMatch(/ psub=4 /);
    } finally {
      monitor.disconnect();
    }
  });

  it('runs the liveness sweep once per tick across both instances', async () => {
    const ticks: { instance: string; id: string }[] = [];
    const listeners = (['a', 'b'] as const).map((instance) => {
      const worker = (instance === 'a' ? a : b).app.get(LivenessProcessor).worker;
      const listener = (job: Job) => {
        if (job.name === JOBS.livenessSweep) ticks.push({ instance, id: job.id! });
      };
      worker.on('completed', listener);
      return () => worker.off('completed', listener);
    });

    await sleep(6000);
    listeners.forEach((off) => off());

    // A scheduler job's id ends with the tick it stands for: `repeat:<scheduler>:<ms>`.
    const tickTimes = ticks.map((t) => Number(t.id.split(':').at(-1)));
    expect(tickTimes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(tickTimes).size).toBe(tickTimes.length);
    const sorted = [...tickTimes].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBeGreaterThanOrEqual(1000);
  });

  it('marks offline only the speakers of an instance that shuts down, after the grace period, and they come back on another', async () => {
    const c = await aThirdInstance();
    const { commune } = await anAreaTree(a);
    const leaving = [await aDevice(a, { areaCode: commune }), await aDevice(a, { areaCode: commune })];
    const staying = await aDevice(a, { areaCode: commune });
    for (const device of leaving) await link(c, device);
    await link(b, staying);
    await eventually(async () => (await Promise.all([...leaving, staying].map((d) => stateOf(d.code)))).every((s) => s === 'online'));

    await c.close();

    for (const device of leaving) {
      await eventually(async () => (await stateOf(device.code)) === 'offline', 10_000);
    }
    expect(await stateOf(staying.code)).toBe('online');
    for (const device of leaving) await link(b, device);
    for (const device of leaving) {
      await eventually(async () => (await stateOf(device.code)) === 'online');
      expect(await history(device.code)).toEqual(['online:connected', 'offline:disconnected', 'online:connected']);
    }
    expect(await history(staying.code)).toEqual(['online:connected']);
  });

  it('keeps the speakers of an instance whose lease lapsed during a stall online: its next renewal re-asserts their links', async () => {
    const c = await aThirdInstance({ INSTANCE_LEASE_S: '3' });
    const { commune } = await anAreaTree(a);
    const device = await aDevice(a, { areaCode: commune });
    await link(c, device);
    await eventually(async () => (await stateOf(device.code)) === 'online');

    // A stall longer than the lease: c's renewals are held until the sweep has taken c for dead.
    // (Deleting the lease by hand instead raced the sweep and c's own renewal, once in CI.)
    const instanceId = c.app.get(BrokerService).instanceId;
    const lease = c.app.get(LivenessStore);
    const renew = lease.renewLease.bind(lease);
    let endStall!: () => void;
    const stall = new Promise<void>((resolve) => (endStall = resolve));
    lease.renewLease = async (...args) => {
      await stall;
      return renew(...args);
    };
    const redis = a.app.get(RedisService);
    await eventually(async () => !(await redis.client.sismember(redis.key('live', 'instances'), instanceId)), 10_000);
    expect(await redis.client.zscore(redis.key('live', 'grace'), device.code)).not.toBeNull();
    endStall();
    // Grace (2 s) + a sweep, with room: without the re-asserted link, the device would be offline by then.
    await sleep(4000);

    expect(await stateOf(device.code)).toBe('online');
    expect(await history(device.code)).toEqual(['online:connected']);
    await c.close();
  });

  it('marks offline the speakers of an instance that dies once its lease lapses, unless they reconnect elsewhere first', async () => {
    // A heartbeat deadline of 3 minutes: only the lapsed lease can explain an offline within the test.
    const c = await aThirdInstance({ HEARTBEAT_INTERVAL_S: '60', INSTANCE_LEASE_S: '3' });
    const { commune } = await anAreaTree(a);
    const silent = await aDevice(a, { areaCode: commune });
    const returning = await aDevice(a, { areaCode: commune });
    for (const device of [silent, returning]) await link(c, device);
    await eventually(async () => (await Promise.all([silent, returning].map((d) => stateOf(d.code)))).every((s) => s === 'online'));

    // A process that dies records nothing: no disconnect reaches Redis, and its lease is neither renewed nor released.
    c.app.get(DeviceGateway).onDisconnected = () => undefined;
    const lease = c.app.get(LivenessStore);
    lease.renewLease = async () => false;
    lease.releaseLease = async () => undefined;
    await c.close();
    await link(b, returning);

    // Lease (3 s) + sweep (1 s) + grace (2 s) is about 6 s; the heartbeat deadline is 180 s.
    await eventually(async () => (await stateOf(silent.code)) === 'offline', 15_000);
    expect(await history(silent.code)).toEqual(['online:connected', 'offline:disconnected']);
    expect(await stateOf(returning.code)).toBe('online');
    expect(await history(returning.code)).toEqual(['online:connected']);
  });
});
