/**
 * Minimal speaker firmware for the emergency fan-out benchmark, thousands per process:
 * connect as the device, subscribe QoS 1 to its own commands and to the command topic of
 * each area of its path, note when the `play` command arrives, ack it once.
 *
 * Forked by bench/emergency-fanout.ts and driven over IPC, so that the orchestrator's own
 * work never delays a receipt. The same code runs against Loa and against Mosquitto.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';

export interface FanoutDevice {
  code: string;
  secret: string;
  /** Root first, as in the area path. */
  areaCodes: string[];
}

export type ToClients =
  | { type: 'connect'; url: string; devices: FanoutDevice[]; batchSize: number; batchPauseMs: number }
  | { type: 'report' }
  | { type: 'stop' };

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes of one machine. */
export type EpochMs = number;

export interface ClientsReport {
  /** Per device, when the first `play` arrived; NaN if it never did. */
  receivedAt: EpochMs[];
  /** Per device, when the broker confirmed the ack (PUBACK); NaN if not. */
  ackConfirmedAt: EpochMs[];
  duplicates: number;
  disconnects: number;
  /** The first play command received, as bytes on the wire. */
  sample: string | null;
}

export type FromClients =
  | { type: 'connected'; count: number; failures: string[] }
  | { type: 'done' }
  | { type: 'report'; report: ClientsReport };

export const epochNow = (): EpochMs => performance.timeOrigin + performance.now();

const send = (message: FromClients) => process.send!(message);
const clients: MqttClient[] = [];
let receivedAt: Float64Array;
let ackConfirmedAt: Float64Array;
let acked = 0;
let duplicates = 0;
let disconnects = 0;
let sample: string | null = null;
let stopping = false;

function connectOne(url: string, device: FanoutDevice, index: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: device.code,
      username: device.code,
      password: device.secret,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    const ackTopic = deviceTopic(device.code, 'acks');
    client.on('message', (_topic, payload) => {
      const at = epochNow();
      let command: { id?: string; type?: string };
      try {
        command = JSON.parse(payload.toString('utf8')) as typeof command;
      } catch {
        return;
      }
      if (command.type !== 'play') return;
      // Firmware acks and plays a command id once, however many copies arrive.
      if (!Number.isNaN(receivedAt[index])) return void duplicates++;
      receivedAt[index] = at;
      sample ??= payload.toString('utf8');
      client.publish(ackTopic, JSON.stringify({ commandId: command.id, status: 'ok' }), { qos: 1 }, (err) => {
        if (err) return;
        ackConfirmedAt[index] = epochNow();
        if (++acked === receivedAt.length) send({ type: 'done' });
      });
    });
    client.on('close', () => {
      if (!stopping) disconnects++;
    });
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('connect', () => {
      const topics = [deviceTopic(device.code, 'commands'), ...device.areaCodes.map(areaCommandsTopic)];
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        if (err) return reject(err);
        const refused = granted?.find((g) => g.qos === 128);
        if (refused) return reject(new Error(`subscription to ${refused.topic} refused`));
        resolve(client);
      });
    });
  });
}

async function connectAll(message: Extract<ToClients, { type: 'connect' }>): Promise<void> {
  const { url, devices, batchSize, batchPauseMs } = message;
  receivedAt = new Float64Array(devices.length).fill(NaN);
  ackConfirmedAt = new Float64Array(devices.length).fill(NaN);
  const failures: string[] = [];
  for (let start = 0; start < devices.length; start += batchSize) {
    const batch = devices.slice(start, start + batchSize);
    const results = await Promise.allSettled(batch.map((device, i) => connectOne(url, device, start + i)));
    for (const [i, result] of results.entries()) {
      if (result.status === 'fulfilled') clients.push(result.value);
      else failures.push(`${batch[i].code}: ${(result.reason as Error).message}`);
    }
    if (batchPauseMs) await new Promise((r) => setTimeout(r, batchPauseMs));
  }
  send({ type: 'connected', count: clients.length, failures: failures.slice(0, 20) });
}

process.on('message', (message: ToClients) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message);
      return;
    case 'report':
      send({
        type: 'report',
        report: { receivedAt: [...receivedAt], ackConfirmedAt: [...ackConfirmedAt], duplicates, disconnects, sample },
      });
      return;
    case 'stop':
      stopping = true;
      for (const client of clients) client.end(true);
      process.disconnect();
      return;
  }
});
