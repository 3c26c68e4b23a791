import { execFile } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { anAreaTree } from './support/factories.js';
import { aDevice, closed, connect, nextMessage, publish, refusalCode, subscribe, type ProvisionedDevice } from './support/devices.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

const run = promisify(execFile);
const BAD_USERNAME_OR_PASSWORD = 4;
const SUBACK_FAILURE = 128;

describe('MQTT broker: authentication and access control', () => {
  let t: TestApp;
  let tree: { province: string; district: string; commune: string };
  let speaker: ProvisionedDevice;
  let neighbour: ProvisionedDevice;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    tree = await anAreaTree(t);
    speaker = await aDevice(t, { areaCode: tree.commune });
    neighbour = await aDevice(t, { areaCode: tree.commune });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(() => t.close());

  const online = async (device: ProvisionedDevice) => {
    const client = await connect(t, device.code, device.secret);
    clients.push(client);
    return client;
  };
  const rejected = async (code: string) => {
    const res = await t.http().get(`/api/v1/devices/${code}`).set('Authorization', t.auth).expect(200);
    return res.body.rejectedMessages as number;
  };

  describe('CONNECT', () => {
    it('accepts a provisioned device with its secret', async () => {
      const client = await online(speaker);

      expect(client.connected).toBe(true);
    });

    it('refuses a wrong secret, an unknown code and a clientId that is not the username', async () => {
      expect(await refusalCode(t, speaker.code, 'not-the-secret')).toBe(BAD_USERNAME_OR_PASSWORD);
      expect(await refusalCode(t, 'no-such-speaker', speaker.secret)).toBe(BAD_USERNAME_OR_PASSWORD);
      expect(await refusalCode(t, speaker.code, speaker.secret, { clientId: neighbour.code })).toBe(BAD_USERNAME_OR_PASSWORD);
      expect(await refusalCode(t, 'NOT A CODE', 'x', { clientId: 'NOT A CODE' })).toBe(BAD_USERNAME_OR_PASSWORD);
      expect(await refusalCode(t, speaker.code, '', {})).toBe(BAD_USERNAME_OR_PASSWORD);
    });

    it('refuses the same wrong secret every time, even after a good connect was cached', async () => {
      await (await online(speaker)).endAsync();

      expect(await refusalCode(t, speaker.code, `${speaker.secret}x`)).toBe(BAD_USERNAME_OR_PASSWORD);
    });

    it('lets a second connection with the same code take over the first', async () => {
      const first = await online(speaker);

      const second = await online(speaker);

      await closed(first);
      expect(second.connected).toBe(true);
    });

    it('accepts mosquitto_pub, a third-party client, with device credentials', async () => {
      const watcher = await online(neighbour);
      await subscribe(watcher, deviceTopic(neighbour.code, 'config'));

      await run('mosquitto_pub', [
        '-h', '127.0.0.1', '-p', String(t.mqttPort), '-V', 'mqttv311', '-q', '1',
        '-i', speaker.code, '-u', speaker.code, '-P', speaker.secret,
        '-t', deviceTopic(speaker.code, 'heartbeat'), '-m', JSON.stringify({ seq: 7, firmware: 'mosq-1.0' }),
      ]);

      const device = await eventually(async () => {
        const res = await t.http().get(`/api/v1/devices/${speaker.code}`).set('Authorization', t.auth);
        return res.body.telemetry?.seq === 7 ? res.body : null;
      });
      expect(device.firmware).toBe('mosq-1.0');
    });

    it('refuses mosquitto_sub with a wrong secret', async () => {
      const result = await run('mosquitto_sub', [
        '-h', '127.0.0.1', '-p', String(t.mqttPort), '-V', 'mqttv311', '-C', '1', '-W', '3',
        '-i', speaker.code, '-u', speaker.code, '-P', 'wrong', '-t', deviceTopic(speaker.code, 'config'),
      ]).then(() => 'connected', (err: { stderr?: string }) => err.stderr ?? 'failed');

      expect(result).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i);
    });
  });

  describe('subscriptions', () => {
    it.each(['commands', 'schedule', 'config'] as const)('grants a device its own %s topic', async (channel) => {
      const client = await online(speaker);

      expect(await subscribe(client, deviceTopic(speaker.code, channel))).toBe(1);
    });

    it('grants the command topics of its commune and every ancestor', async () => {
      const client = await online(speaker);

      for (const area of [tree.commune, tree.district, tree.province]) {
        expect(await subscribe(client, areaCommandsTopic(area))).toBe(1);
      }
    });

    it.each([
      ["another device's commands", () => deviceTopic(neighbour.code, 'commands')],
      ["another device's config", () => deviceTopic(neighbour.code, 'config')],
      ['its own heartbeat', () => deviceTopic(speaker.code, 'heartbeat')],
      ['a wildcard', () => 'loa/v1/devices/+/commands'],
      ['everything', () => '#'],
      ['$SYS', () => '$SYS/#'],
      ['an area outside its branch', () => areaCommandsTopic('99999')],
    ])('refuses %s with SUBACK 0x80 and keeps the connection', async (_what, topic) => {
      const client = await online(speaker);

      expect(await subscribe(client, topic())).toBe(SUBACK_FAILURE);
      expect(await subscribe(client, deviceTopic(speaker.code, 'commands'))).toBe(1);
    });

    it('delivers the retained DeviceConfig on subscribe', async () => {
      const client = await online(speaker);
      const message = nextMessage(client, deviceTopic(speaker.code, 'config'));

      await subscribe(client, deviceTopic(speaker.code, 'config'));

      const { payload, retain } = await message;
      expect(retain).toBe(true);
      expect(JSON.parse(payload.toString())).toEqual({ heartbeatIntervalS: 30, volume: 80, timezone: 'Asia/Ho_Chi_Minh' });
    });
  });

  describe('publishes', () => {
    it.each(['heartbeat', 'events', 'acks'] as const)('accepts a publish on its own %s topic', async (channel) => {
      const fresh = await aDevice(t, { areaCode: tree.commune });
      const client = await online(fresh);

      await publish(client, deviceTopic(fresh.code, channel), JSON.stringify(validPayload(channel)));
      await publish(client, deviceTopic(fresh.code, channel), 'not json');

      await eventually(async () => (await rejected(fresh.code)) > 0);
      await new Promise((r) => setTimeout(r, 400));
      // The broker lets both through to the gateway, which drops the non-JSON one. A valid
      // PlaybackEvent naming an occurrence that does not exist is then refused by the as-run log.
      expect(await rejected(fresh.code)).toBe(channel === 'events' ? 2 : 1);
      expect(client.connected).toBe(true);
    });

    it("drops and counts a publish on another device's topics, and that device never sees it", async () => {
      const victim = await online(neighbour);
      await subscribe(victim, deviceTopic(neighbour.code, 'commands'));
      const received: string[] = [];
      victim.on('message', (topic) => received.push(topic));
      const intruder = await aDevice(t, { areaCode: tree.commune });
      const attacker = await online(intruder);

      await publish(attacker, deviceTopic(neighbour.code, 'commands'), JSON.stringify({ type: 'reboot' }));
      await publish(attacker, deviceTopic(neighbour.code, 'heartbeat'), JSON.stringify({ seq: 1 }));
      await publish(attacker, areaCommandsTopic(tree.commune), JSON.stringify({ type: 'play' }));
      await publish(attacker, '$SYS/broker/hack', 'x');

      await eventually(async () => (await rejected(intruder.code)) === 4);
      expect(received).toEqual([]);
      expect(attacker.connected).toBe(true);
      const neighbourState = await t.http().get(`/api/v1/devices/${neighbour.code}`).set('Authorization', t.auth);
      expect(neighbourState.body.telemetry).toBeNull();
    });

    it('closes the connection of a device that sends a packet over 64 KiB, and only that one', async () => {
      const bystander = await online(neighbour);
      const flooder = await online(speaker);
      flooder.on('error', () => undefined);

      flooder.publish(deviceTopic(speaker.code, 'heartbeat'), Buffer.alloc(100 * 1024, 0x20), { qos: 0 });

      await closed(flooder);
      expect(await subscribe(bystander, deviceTopic(neighbour.code, 'commands'))).toBe(1);
    });

    it('closes a raw connection that announces a huge packet before sending its body', async () => {
      const socket = tcpConnect(t.mqttPort, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const ended = new Promise((resolve) => socket.once('close', resolve));

      // CONNECT, remaining length 200 MiB as a four-byte variable integer; no body follows.
      socket.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]));

      await expect(Promise.race([ended.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 3000).unref())])).resolves.toBe('closed');
      await t.http().get('/health/ready').expect(200);
    });

    it('does not store a retained message a device tries to plant on its own schedule topic', async () => {
      const client = await online(speaker);
      await publish(client, deviceTopic(speaker.code, 'schedule'), JSON.stringify({ version: 999, items: [] }));
      await client.endAsync();
      const again = await online(speaker);
      const received: string[] = [];
      again.on('message', (topic) => received.push(topic));

      await subscribe(again, deviceTopic(speaker.code, 'schedule'));
      await new Promise((r) => setTimeout(r, 300));

      expect(received).toEqual([]);
    });
  });
});

function validPayload(channel: 'heartbeat' | 'events' | 'acks') {
  const id = 'a3bb189e-8bf9-3888-9912-ace4e6543002';
  if (channel === 'heartbeat') return { seq: 1 };
  if (channel === 'events') return { id, type: 'started', occurrenceId: id, at: '2026-03-01T06:00:00+07:00' };
  return { commandId: id, status: 'ok' };
}
