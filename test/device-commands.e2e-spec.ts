import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '../src/broker/topics.js';
import { COMMAND_RETRY_MS, RECONNECT_SETTLE_MS } from '../src/devices/commands/device-commands.service.js';
import { aDevice, connect, nextMessage, publish, subscribe, type ProvisionedDevice } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

describe('single-device commands', () => {
  let t: TestApp;
  let commune: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    ({ commune } = await anAreaTree(t));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(() => t.close());

  const api = () => ({
    get: (path: string) => t.http().get(path).set('Authorization', t.auth),
    post: (path: string, body?: object) => t.http().post(path).set('Authorization', t.auth).send(body),
  });
  const commandsOf = (code: string) => `/api/v1/devices/${code}/commands`;

  /** A connected speaker listening on its commands topic. */
  async function aListeningSpeaker(device: ProvisionedDevice): Promise<MqttClient> {
    const client = await connect(t, device.code, device.secret);
    clients.push(client);
    expect(await subscribe(client, deviceTopic(device.code, 'commands'))).toBe(1);
    return client;
  }

  const ack = (client: MqttClient, code: string, body: object) => publish(client, deviceTopic(code, 'acks'), JSON.stringify(body));

  it('delivers set_volume to a connected speaker and records its ack', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const speaker = await aListeningSpeaker(device);
    const received = nextMessage(speaker, deviceTopic(device.code, 'commands'));

    const res = await api().post(commandsOf(device.code), { type: 'set_volume', volume: 35 }).expect(202);
    const command = JSON.parse((await received).payload.toString());
    await ack(speaker, device.code, { commandId: command.id, status: 'ok' });

    expect(res.body).toMatchObject({ type: 'set_volume', status: 'pending', attempts: 1 });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.issuedAt)).toBe(300_000);
    expect(command).toEqual({ id: res.body.id, type: 'set_volume', volume: 35, issuedAt: res.body.issuedAt, expiresAt: res.body.expiresAt });
    const acked = await eventually(async () => {
      const { body } = await api().get(`${commandsOf(device.code)}/${res.body.id}`).expect(200);
      return body.status === 'ok' && body;
    });
    expect(acked).toMatchObject({ id: res.body.id, attempts: 1, error: null, payload: command });
    expect(Date.parse(acked.ackedAt)).toBeGreaterThanOrEqual(Date.parse(acked.issuedAt));
  });

  it('sends stop with its occurrence, and records a failed ack with the device’s error', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const speaker = await aListeningSpeaker(device);
    const received = nextMessage(speaker, deviceTopic(device.code, 'commands'));
    const occurrenceId = randomUUID();

    const res = await api().post(commandsOf(device.code), { type: 'stop', occurrenceId, expiresInS: 60 }).expect(202);
    const command = JSON.parse((await received).payload.toString());
    await ack(speaker, device.code, { commandId: command.id, status: 'failed', error: 'nothing playing' });

    expect(command).toMatchObject({ id: res.body.id, type: 'stop', occurrenceId });
    expect(Date.parse(res.body.expiresAt) - Date.parse(res.body.issuedAt)).toBe(60_000);
    await eventually(async () => {
      const { body } = await api().get(`${commandsOf(device.code)}/${res.body.id}`).expect(200);
      return body.status === 'failed' && body.error === 'nothing playing';
    });
  });

  it('gives a speaker that was offline at send time its command when it connects', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const res = await api().post(commandsOf(device.code), { type: 'sync' }).expect(202);

    const speaker = await connect(t, device.code, device.secret);
    clients.push(speaker);
    // Well before the 10 s retry: this is the reconnect path.
    const received = nextMessage(speaker, deviceTopic(device.code, 'commands'), 5000);
    await subscribe(speaker, deviceTopic(device.code, 'commands'));
    const command = JSON.parse((await received).payload.toString());

    expect(command).toMatchObject({ id: res.body.id, type: 'sync' });
    const { body } = await api().get(`${commandsOf(device.code)}/${res.body.id}`).expect(200);
    expect(body).toMatchObject({ status: 'pending', attempts: 2 });
  });

  it('retries an unacked command, marks it expired on time, and never sends it after', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const speaker = await aListeningSpeaker(device);
    const topic = deviceTopic(device.code, 'commands');
    // Past the resend-on-connect, so the second copy can only come from the retry.
    await new Promise((r) => setTimeout(r, RECONNECT_SETTLE_MS + 200));
    const first = nextMessage(speaker, topic);

    const res = await api().post(commandsOf(device.code), { type: 'reboot', expiresInS: 12 }).expect(202);
    await first;
    const retried = JSON.parse((await nextMessage(speaker, topic, COMMAND_RETRY_MS + 2000)).payload.toString());
    const expired = await eventually(async () => {
      const { body } = await api().get(`${commandsOf(device.code)}/${res.body.id}`).expect(200);
      return body.status === 'expired' && body;
    }, 8000);
    await speaker.endAsync();
    const again = await connect(t, device.code, device.secret);
    clients.push(again);
    const afterReconnect = nextMessage(again, topic, 2500).then(
      () => 'sent',
      () => 'silent',
    );
    await subscribe(again, topic);

    expect(retried.id).toBe(res.body.id);
    expect(expired).toMatchObject({ attempts: 2, ackedAt: null });
    expect(await afterReconnect).toBe('silent');
  }, 30_000);

  it('counts only the first ack, and ignores an ack for it from another device', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const intruder = await aDevice(t, { areaCode: commune });
    const speaker = await aListeningSpeaker(device);
    const other = await connect(t, intruder.code, intruder.secret);
    clients.push(other);
    const res = await api().post(commandsOf(device.code), { type: 'sync' }).expect(202);
    const path = `${commandsOf(device.code)}/${res.body.id}`;

    await ack(other, intruder.code, { commandId: res.body.id, status: 'ok' });
    await new Promise((r) => setTimeout(r, 300));
    const afterIntruder = (await api().get(path).expect(200)).body;
    await ack(speaker, device.code, { commandId: res.body.id, status: 'rejected', error: 'busy' });
    await eventually(async () => (await api().get(path).expect(200)).body.status === 'rejected');
    await ack(speaker, device.code, { commandId: res.body.id, status: 'ok' });
    await new Promise((r) => setTimeout(r, 300));

    expect(afterIntruder).toMatchObject({ status: 'pending', ackedAt: null });
    expect((await api().get(path).expect(200)).body).toMatchObject({ status: 'rejected', error: 'busy' });
    await api().get(`${commandsOf(intruder.code)}/${res.body.id}`).expect(404);
  });

  it('records its commands’ acks when they arrive among many acks of ids it did not send', async () => {
    const [first, second] = [await aDevice(t, { areaCode: commune }), await aDevice(t, { areaCode: commune })];
    const speakers = [await aListeningSpeaker(first), await aListeningSpeaker(second)];
    const sent = [
      (await api().post(commandsOf(first.code), { type: 'sync' }).expect(202)).body.id as string,
      (await api().post(commandsOf(second.code), { type: 'reboot' }).expect(202)).body.id as string,
    ];
    const play = randomUUID(); // acked by every speaker, like an emergency's play, but not a device command

    // Sent together, so they share ack batches: the same foreign id many times, ours among them.
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => ack(speakers[i % 2], [first, second][i % 2].code, { commandId: play, status: 'ok' })),
      ack(speakers[0], first.code, { commandId: sent[0], status: 'ok' }),
      ack(speakers[1], second.code, { commandId: sent[1], status: 'failed', error: 'no power' }),
    ]);

    const statuses = await eventually(async () => {
      const bodies = await Promise.all([first, second].map(async (d, i) => (await api().get(`${commandsOf(d.code)}/${sent[i]}`).expect(200)).body));
      return bodies.every((b) => b.status !== 'pending') && bodies.map((b) => [b.status, b.error]);
    });
    expect(statuses).toEqual([
      ['ok', null],
      ['failed', 'no power'],
    ]);
  });

  it('lists a device’s commands, newest first', async () => {
    const device = await aDevice(t, { areaCode: commune });
    const sync = (await api().post(commandsOf(device.code), { type: 'sync' }).expect(202)).body;
    const volume = (await api().post(commandsOf(device.code), { type: 'set_volume', volume: 0 }).expect(202)).body;

    const { body } = await api().get(`${commandsOf(device.code)}?pageSize=1`).expect(200);

    expect(body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
    expect(body.items.map((c: { id: string }) => c.id)).toEqual([volume.id]);
    expect(sync.id).not.toBe(volume.id);
  });

  it.each([
    ['set_volume without a volume', { type: 'set_volume' }],
    ['a volume over 100', { type: 'set_volume', volume: 101 }],
    ['a volume on a reboot', { type: 'reboot', volume: 50 }],
    ['an occurrence on a sync', { type: 'sync', occurrenceId: randomUUID() }],
    ['a stop with a malformed occurrence', { type: 'stop', occurrenceId: 'not-a-uuid' }],
    ['an unknown type', { type: 'self_destruct' }],
    ['play, which belongs to broadcasts', { type: 'play' }],
    ['an expiry under 10 s', { type: 'sync', expiresInS: 5 }],
    ['an expiry over a day', { type: 'sync', expiresInS: 86_401 }],
    ['an unknown field', { type: 'sync', priority: 'emergency' }],
  ])('refuses %s with 400 and records nothing', async (_what, body) => {
    const device = await aDevice(t, { areaCode: commune });

    const res = await api().post(commandsOf(device.code), body).expect(400);

    expect(res.body.error).toBe('validation');
    expect((await api().get(commandsOf(device.code)).expect(200)).body.total).toBe(0);
  });

  it('refuses a command to an unknown or decommissioned device with 404', async () => {
    const device = await aDevice(t, { areaCode: commune });
    await t.http().delete(`/api/v1/devices/${device.code}`).set('Authorization', t.auth).expect(204);

    await api().post(commandsOf('no-such-speaker'), { type: 'sync' }).expect(404);
    await api().post(commandsOf(device.code), { type: 'sync' }).expect(404);

    expect((await api().get(commandsOf(device.code)).expect(200)).body.total).toBe(0);
    await api().get(`${commandsOf(device.code)}/${randomUUID()}`).expect(404);
    await api().get(`${commandsOf(device.code)}/not-a-uuid`).expect(400);
  });
});
