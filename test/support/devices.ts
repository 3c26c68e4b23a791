import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { TestApp } from './test-app.js';

export interface ProvisionedDevice {
  code: string;
  secret: string;
  areaCode: string;
}

/** Provisions a device through the API, as an operator would. */
export async function aDevice(t: TestApp, fields: { areaCode: string; code?: string; name?: string }): Promise<ProvisionedDevice> {
  const code = fields.code ?? `spk-${randomBytes(4).toString('hex')}`;
  const res = await t
    .http()
    .post('/api/v1/devices')
    .set('Authorization', t.auth)
    .send({ code, name: fields.name ?? `Loa ${code}`, areaCode: fields.areaCode });
  if (res.status !== 201) throw new Error(`provisioning ${code} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { code, secret: res.body.secret, areaCode: fields.areaCode };
}

/** Connects an MQTT 3.1.1 client; rejects with the CONNACK error when refused. */
/** A device's state as the API reports it (as the admin). */
export async function deviceState(t: TestApp, code: string): Promise<string> {
  const res = await t.http().get(`/api/v1/devices/${encodeURIComponent(code)}`).set('Authorization', t.auth).expect(200);
  return res.body.state as string;
}

export function connect(t: TestApp, username: string, password: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(t.mqttUrl, {
      clientId: username,
      username,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** The CONNACK return code a refused connection got. */
export async function refusalCode(t: TestApp, username: string, password: string, options: IClientOptions = {}): Promise<number> {
  try {
    const client = await connect(t, username, password, options);
    await client.endAsync();
    return 0;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

/** Subscribes with QoS 1; resolves with the granted QoS, or 128 (0x80) when refused. */
export function subscribe(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.subscribe(topic, { qos: 1 }, (err, granted) => {
      // mqtt.js turns a SUBACK failure into an error that still carries the packet.
      const refused = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted?.[0];
      if (refused !== undefined) return resolve(refused);
      if (err) return reject(err);
      resolve(granted?.[0]?.qos ?? -1);
    }),
  );
}

/** Resolves with the next message on `topic`, or rejects after `timeoutMs`. */
export function nextMessage(client: MqttClient, topic: string, timeoutMs = 5000): Promise<{ payload: Buffer; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (received: string, payload: Buffer, packet: { retain: boolean }) => {
      if (received !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ payload, retain: packet.retain });
    };
    client.on('message', onMessage);
  });
}

/** Publishes with QoS 1 and waits for the PUBACK. */
export function publish(client: MqttClient, topic: string, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

/** Kills the TCP connection without a DISCONNECT packet, as a speaker losing power does. */
export function dropLink(client: MqttClient): void {
  client.stream.destroy();
  client.end(true);
}

export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
