import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { BrokerService } from '../src/broker/broker.service.js';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { aDevice, type ProvisionedDevice } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

/** A long drain timeout: the frozen speaker stays connected for the whole test unless something waits on it. */
const instance = (cluster: boolean, id: string) => ({ CLUSTER: String(cluster), BROKER_ID: `loa-${id}`, BROKER_DRAIN_TIMEOUT_MS: '120000' });

/**
 * A speaker whose firmware hangs keeps its TCP connection open but stops reading it. Raw
 * TCP, so the test decides exactly when reading stops.
 */
class FrozenSpeaker {
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private readonly waiting = new Map<string, (packet: Packet) => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.parser.parse(chunk));
    this.parser.on('packet', (packet) => this.waiting.get(packet.cmd)?.(packet));
  }

  /** Connects, subscribes to these topics with QoS 1, then stops reading its socket. */
  static async freeze(t: TestApp, device: ProvisionedDevice, topics: string[]): Promise<FrozenSpeaker> {
    const socket = tcpConnect(t.mqttPort, '127.0.0.1');
    const speaker = new FrozenSpeaker(socket);
    const connack = speaker.next('connack');
    socket.write(
      mqttPacket.generate({
        cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60,
        clientId: device.code, username: device.code, password: Buffer.from(device.secret),
      }),
    );
    expect(await connack).toMatchObject({ returnCode: 0 });
    const suback = speaker.next('suback');
    socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: topics.map((topic) => ({ topic, qos: 1 })) }));
    expect(await suback).toMatchObject({ granted: topics.map(() => 1) });
    socket.pause();
    return speaker;
  }

  private next(cmd: string): Promise<Packet> {
    return new Promise((resolve) => this.waiting.set(cmd, resolve));
  }
}

/**
 * Single instance: A alone serves every speaker and the API. Cluster: B joins A, and the
 * emergency is posted on B to speakers on both.
 */
describe.each([
  ['on a single instance', false],
  ['in a cluster', true],
])('a frozen speaker %s', (_where, cluster) => {
  let a: TestApp;
  let b: TestApp;
  let frozen: FrozenSpeaker | null = null;
  const firmwares: TestFirmware[] = [];

  beforeAll(async () => {
    a = await startTestApp(instance(cluster, 'a'));
    b = cluster ? await startTestApp(instance(cluster, 'b'), { joining: a }) : a;
  });
  afterAll(async () => {
    frozen?.socket.destroy();
    await Promise.all(firmwares.map((f) => f.client.endAsync(true)));
    if (b !== a) await b?.close();
    await a?.close();
  });

  /** The broker's side of a device's connection on instance A. */
  const connectionOnA = (code: string) =>
    (a.app.get(BrokerService) as unknown as { aedes: { clients: Record<string, { conn: Socket } | undefined> } }).aedes.clients[code]?.conn;

  it('does not hold back an emergency to the other speakers', async () => {
    const tree = await anAreaTree(a);
    const path = [tree.province, tree.district, tree.commune];
    const stuck = await aDevice(a, { areaCode: tree.commune });
    frozen = await FrozenSpeaker.freeze(a, stuck, [areaCommandsTopic(tree.commune), deviceTopic(stuck.code, 'commands')]);
    for (const on of [a, a, b]) firmwares.push(await TestFirmware.online(on, await aDevice(on, { areaCode: tree.commune }), path));
    const bulletin = await anApprovedBulletin(b, { category: 'disaster' });

    // Fill its socket until the broker has to wait for it, then queue many more messages
    // behind that wait: each is an emit that cannot complete while the speaker is frozen.
    const broker = a.app.get(BrokerService);
    const padding = { pad: 'x'.repeat(60_000) };
    for (let sent = 0; !connectionOnA(stuck.code)?.writableNeedDrain; sent++) {
      if (sent > 1000) throw new Error('the frozen speaker never filled its socket');
      void broker.publish(deviceTopic(stuck.code, 'commands'), padding).catch(() => undefined);
      if (sent % 10 === 9) await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(Array.from({ length: 300 }, (_, i) => broker.publish(deviceTopic(stuck.code, 'commands'), { i })));

    const res = await b
      .http()
      .post('/api/v1/broadcasts')
      .set('Authorization', b.auth)
      .send({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'now' }, priority: 'emergency' });

    expect(res.status).toBe(201);
    const occurrenceId: string = res.body.occurrences[0].id;
    for (const speaker of firmwares) {
      await eventually(async () => speaker.commands.find((c) => c.type === 'play' && c.occurrenceId === occurrenceId), 15_000);
    }
    // Still frozen and still connected: the others did not wait for its drain timeout.
    expect(connectionOnA(stuck.code)?.writableNeedDrain).toBe(true);
  });
});
