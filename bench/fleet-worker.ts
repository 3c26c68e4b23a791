/**
 * Minimal speaker firmware for the benchmarks, thousands per process: connect as the
 * device, subscribe QoS 1 to its commands (its own and each area's of its path) and, when
 * asked, to its schedule; ack a `play` once; start a scheduled item at its startAt and
 * report `started`; send heartbeats at the rate the orchestrator sets.
 *
 * Forked by bench/fleet.ts and driven over IPC, so that the orchestrator's own work never
 * delays a receipt, and so a benchmark can SIGSTOP or SIGKILL one process and with it
 * exactly the devices it holds. The same code runs against Loa and against Mosquitto.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { CommandPayload, Heartbeat, PlaybackEvent, SchedulePayload } from '../src/broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { epochNow, type EpochMs } from './clock.js';

export interface BenchDevice {
  code: string;
  /** Empty for brokers that take anyone. */
  secret: string;
  /** Root first, as in the area path. */
  areaCodes: string[];
}

export interface ConnectOrder {
  type: 'connect';
  url: string;
  devices: BenchDevice[];
  /** CONNECTs in flight at once in this process. */
  concurrency: number;
  /** Also subscribe to the retained schedule, and play its items on time. */
  schedule: boolean;
}

export type ToWorker = ConnectOrder | { type: 'heartbeats'; perSecond: number } | { type: 'report' } | { type: 'reset' } | { type: 'stop' };

export interface WorkerReport {
  /** Per device, when its CONNACK arrived; NaN if it never did. */
  connackAt: EpochMs[];
  /** Per device, when the first `play` arrived; NaN if it never did. */
  receivedAt: EpochMs[];
  /** Per device, when the broker confirmed its ack (PUBACK); NaN if not. */
  ackConfirmedAt: EpochMs[];
  /** Per device, its first scheduled item: when it started minus its startAt (ms); NaN if none. */
  startSkewMs: number[];
  /** Per device, how long before its startAt the schedule holding it arrived (ms); NaN if none. */
  scheduleLeadMs: number[];
  duplicates: number;
  disconnects: number;
  heartbeatsSent: number;
  /** The first play command received, as bytes on the wire. */
  sample: string | null;
}

export type FromWorker =
  | { type: 'connected'; count: number; failures: string[] }
  | { type: 'acked' }
  | { type: 'reset' }
  | { type: 'started' }
  | { type: 'report'; report: WorkerReport };

const send = (message: FromWorker) => process.send!(message);
const clients: (MqttClient | null)[] = [];
let devices: BenchDevice[] = [];
let connackAt: Float64Array;
let receivedAt: Float64Array;
let ackConfirmedAt: Float64Array;
let startSkewMs: Float64Array;
let scheduleLeadMs: Float64Array;
let acked = 0;
let started = 0;
let duplicates = 0;
let disconnects = 0;
let heartbeatsSent = 0;
let sample: string | null = null;
let stopping = false;

function onCommand(client: MqttClient, index: number, payload: Buffer): void {
  const at = epochNow();
  let command: Partial<CommandPayload>;
  try {
    command = JSON.parse(payload.toString('utf8')) as Partial<CommandPayload>;
  } catch {
    return;
  }
  if (command.type !== 'play') return;
  // Firmware acks and plays a command id once, however many copies arrive.
  if (!Number.isNaN(receivedAt[index])) return void duplicates++;
  receivedAt[index] = at;
  sample ??= payload.toString('utf8');
  const ack = JSON.stringify({ commandId: command.id, status: 'ok' });
  client.publish(deviceTopic(devices[index].code, 'acks'), ack, { qos: 1 }, (err) => {
    if (err) return;
    ackConfirmedAt[index] = epochNow();
    if (++acked === devices.length) send({ type: 'acked' });
  });
}

function onSchedule(client: MqttClient, index: number, payload: Buffer): void {
  const arrived = epochNow();
  let schedule: SchedulePayload;
  try {
    schedule = JSON.parse(payload.toString('utf8')) as SchedulePayload;
  } catch {
    return;
  }
  const [item] = schedule.items ?? [];
  if (!item || !Number.isNaN(scheduleLeadMs[index])) return;
  const startMs = Date.parse(item.startAt);
  scheduleLeadMs[index] = startMs - arrived;
  // A timer fires at or after its delay; the item starts then, or at once if the schedule came late.
  // Thousands of devices share this process and fire together: the start is noted first and
  // reported on the next turn, so one device's publish does not make the next one late.
  setTimeout(() => {
    const now = epochNow();
    startSkewMs[index] = now - startMs;
    setImmediate(() => {
      const event: PlaybackEvent = { id: randomUUID(), type: 'started', occurrenceId: item.occurrenceId, at: new Date(now).toISOString() };
      client.publish(deviceTopic(devices[index].code, 'events'), JSON.stringify(event), { qos: 1 });
      if (++started === devices.length) send({ type: 'started' });
    });
  }, Math.max(0, startMs - Date.now()));
}

function connectOne(url: string, index: number, schedule: boolean): Promise<MqttClient> {
  const device = devices[index];
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: device.code,
      ...(device.secret ? { username: device.code, password: device.secret } : {}),
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 60_000,
    });
    const scheduleTopic = deviceTopic(device.code, 'schedule');
    client.on('message', (topic, payload) => {
      if (topic === scheduleTopic) onSchedule(client, index, payload);
      else onCommand(client, index, payload);
    });
    client.on('close', () => {
      if (!stopping) disconnects++;
    });
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('connect', () => {
      connackAt[index] = epochNow();
      const topics = [deviceTopic(device.code, 'commands'), ...device.areaCodes.map(areaCommandsTopic), ...(schedule ? [scheduleTopic] : [])];
      client.subscribe(topics, { qos: 1 }, (err, granted) => {
        if (err) return reject(err);
        const refused = granted?.find((g) => g.qos === 128);
        if (refused) return reject(new Error(`subscription to ${refused.topic} refused`));
        resolve(client);
      });
    });
  });
}

async function connectAll(order: ConnectOrder): Promise<void> {
  devices = order.devices;
  const n = devices.length;
  [connackAt, receivedAt, ackConfirmedAt, startSkewMs, scheduleLeadMs] = Array.from({ length: 5 }, () => new Float64Array(n).fill(NaN));
  const failures: string[] = [];
  let next = 0;
  // `concurrency` lanes, each connecting one device after another: as fast as the broker answers.
  const lane = async () => {
    while (next < n) {
      const index = next++;
      try {
        clients[index] = await connectOne(order.url, index, order.schedule);
      } catch (err) {
        clients[index] = null;
        failures.push(`${devices[index].code}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(order.concurrency, n) }, lane));
  send({ type: 'connected', count: clients.filter(Boolean).length, failures: failures.slice(0, 20) });
}

let heartbeatTimer: NodeJS.Timeout | null = null;

/** Spreads `perSecond` heartbeats evenly over the devices of this process, round robin, in 100 ms ticks. */
function heartbeats(perSecond: number): void {
  if (heartbeatTimer) clearInterval(heartbeatTimer);
  heartbeatTimer = null;
  if (perSecond <= 0) return;
  let owed = 0;
  let cursor = 0;
  const bootedAt = Date.now();
  heartbeatTimer = setInterval(() => {
    owed += perSecond / 10;
    for (; owed >= 1; owed--) {
      const index = cursor++ % devices.length;
      const client = clients[index];
      if (!client?.connected) continue;
      // seq is the send time: the benchmark reads Loa's ingest lag from the telemetry it stores.
      const heartbeat: Heartbeat = { seq: Date.now(), uptimeS: Math.round((Date.now() - bootedAt) / 1000), volume: 80, rssi: -70, power: 'mains', firmware: '1.4.2' };
      client.publish(deviceTopic(devices[index].code, 'heartbeat'), JSON.stringify(heartbeat), { qos: 0 });
      heartbeatsSent++;
    }
  }, 100);
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'connect':
      void connectAll(message);
      return;
    case 'heartbeats':
      heartbeats(message.perSecond);
      return;
    case 'report':
      send({
        type: 'report',
        report: {
          connackAt: [...connackAt],
          receivedAt: [...receivedAt],
          ackConfirmedAt: [...ackConfirmedAt],
          startSkewMs: [...startSkewMs],
          scheduleLeadMs: [...scheduleLeadMs],
          duplicates,
          disconnects,
          heartbeatsSent,
          sample,
        },
      });
      return;
    case 'reset':
      // Another round: the next play counts as the first again.
      receivedAt.fill(NaN);
      ackConfirmedAt.fill(NaN);
      acked = 0;
      duplicates = 0;
      send({ type: 'reset' });
      return;
    case 'stop':
      stopping = true;
      heartbeats(0);
      for (const client of clients) client?.end(true);
      process.disconnect();
      return;
  }
});
