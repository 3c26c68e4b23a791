import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import {
  COMMAND_TYPES,
  PRIORITY_RANK,
  type CommandAck,
  type CommandPayload,
  type DeviceConfigPayload,
  type Heartbeat,
  type MediaPayload,
  type PlaybackEvent,
  type SchedulePayload,
} from '../src/broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../src/broker/topics.js';
import { MediaStore } from './media-store.js';
import { Player, type Playback } from './player.js';

export interface SpeakerOptions {
  code: string;
  secret: string;
  mqttUrl: string;
  /** The speaker's area and every ancestor of it: it listens to each one's command topic. */
  areaCodes?: readonly string[];
  /** Drop the link now and then (about once per 40 heartbeats) and let the back-off restore it. */
  flaky?: boolean;
  /** Heartbeat interval until the retained DeviceConfig says otherwise. */
  defaultHeartbeatIntervalS?: number;
  /** Asked for a fresh secret when Loa refuses the one we hold (e.g. the database was reset). */
  renewSecret?: (code: string) => Promise<string>;
  /** Download each file and check its sha256 before playing it (default false). */
  downloadMedia?: boolean;
  /** Play this many times faster than real time (tests and benchmarks; default 1). */
  playbackSpeed?: number;
}

/**
 * What a speaker lets its owner (tests, benchmarks, the CLI) hear. `command` fires once per
 * command id, on first receipt, with the epoch ms it arrived: the emergency fan-out benchmark
 * reads its latency from there, so nothing is logged or allocated per message for it.
 */
export interface SpeakerEvents {
  command: [command: CommandPayload, receivedAtMs: number];
  playback: [event: PlaybackEvent];
  ack: [ack: CommandAck];
  schedule: [schedule: SchedulePayload];
}

/** Reconnect back-off of the protocol's firmware guidance: 1 s doubling to 5 min, ±50% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(1000 * 2 ** attempt, 300_000);
  return Math.round(base * (0.5 + random()));
}

/**
 * A command id seen again within this window after its ack is the same send reaching us
 * twice (area topic and device topic): acted on and acked once. Later, it is Loa retrying
 * because our ack never arrived (the link dropped after we sent it), so the same ack goes
 * again — the command is still not acted on twice.
 */
const DUPLICATE_WINDOW_MS = 2000;
/** Command ids remembered for dedupe; commands expire within minutes, this covers far more. */
const REMEMBERED_COMMANDS = 512;
/** Events and acks kept while the link is down, sent on reconnect; their ids make re-sends harmless. */
const OUTBOX_LIMIT = 500;
const REBOOT_MS = 1000;

interface Outgoing {
  topic: string;
  payload: string;
}

/**
 * One simulated speaker cluster, written as firmware should be: it stores its retained
 * config and schedule, plays the schedule on time even with the link down, obeys commands,
 * heartbeats at the configured interval from a random offset, and reconnects with jittered
 * exponential back-off.
 */
export class SimulatedSpeaker extends EventEmitter<SpeakerEvents> {
  readonly code: string;
  client: MqttClient | null = null;
  config: DeviceConfigPayload | null = null;
  connected = false;
  heartbeatsSent = 0;
  reconnects = 0;
  /** Copies of an already-seen command id (area + device topic, or Loa's retries). */
  duplicateCommands = 0;
  readonly media: MediaStore | null;
  private readonly player: Player;
  private seq = 0;
  private attempt = 0;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private bootedAt = Date.now();
  private rssi = -60 - Math.round(Math.random() * 40);
  private battery = 60 + Math.random() * 40;
  private readonly power: 'mains' | 'battery' = Math.random() < 0.8 ? 'mains' : 'battery';
  private secret: string;
  private secretRefused = false;
  /** Set by DeviceConfig, then by `set_volume`; the newer wins. */
  private volumeSetting: number | null = null;
  private readonly acked = new Map<string, { ack: CommandAck; atMs: number }>();
  private readonly outbox: Outgoing[] = [];
  private readonly commandTopics: Set<string>;

  constructor(private readonly options: SpeakerOptions) {
    super();
    this.code = options.code;
    this.secret = options.secret;
    this.media = options.downloadMedia ? new MediaStore() : null;
    const media = this.media;
    this.player = new Player({
      emit: (event) => this.onPlayback(event),
      prepare: media ? (m) => media.ready(m) : undefined,
      playbackSpeed: options.playbackSpeed,
    });
    this.commandTopics = new Set([deviceTopic(this.code, 'commands'), ...(options.areaCodes ?? []).map(areaCommandsTopic)]);
  }

  get heartbeatIntervalS(): number {
    return this.config?.heartbeatIntervalS ?? this.options.defaultHeartbeatIntervalS ?? 30;
  }

  /** The last Schedule stored (retained on its schedule topic), or null. */
  get schedule(): SchedulePayload | null {
    return this.player.schedule;
  }

  /** What plays now, or null. */
  get playing(): Playback | null {
    return this.player.playing;
  }

  get volume(): number {
    return this.volumeSetting ?? 80;
  }

  /** Boots: plays its stored schedule (if any) and connects. */
  start(): void {
    this.stopped = false;
    this.player.arm();
    this.connect();
  }

  /** A clean shutdown: DISCONNECT, no reconnect. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    this.player.powerOff();
    await this.client?.endAsync().catch(() => undefined);
    this.connected = false;
  }

  /** Power cut: the socket dies without DISCONNECT and nothing comes back. */
  kill(): void {
    this.stopped = true;
    this.clearTimers();
    this.player.powerOff();
    this.client?.stream?.destroy();
    this.client?.end(true);
    this.connected = false;
  }

  private connect(): void {
    const client = mqtt.connect(this.options.mqttUrl, {
      clientId: this.code,
      username: this.code,
      password: this.secret,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
    });
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      this.attempt = 0;
      // A topic the broker refuses (an area we were moved out of) gets SUBACK 0x80; the rest still hold.
      client.subscribe(
        [deviceTopic(this.code, 'config'), deviceTopic(this.code, 'schedule'), ...this.commandTopics],
        { qos: 1 },
        () => undefined,
      );
      for (const message of this.outbox.splice(0)) this.transmit(client, message);
      this.scheduleHeartbeat(Math.random() * this.heartbeatIntervalS * 1000);
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      if ((err as { code?: number }).code === 4) this.secretRefused = true;
    });
    client.on('close', () => {
      this.connected = false;
      if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
      if (this.stopped || this.reconnectTimer) return;
      this.reconnects++;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        client.removeAllListeners();
        client.end(true);
        if (!this.stopped) void this.renewIfRefused().then(() => !this.stopped && this.connect());
      }, backoffMs(this.attempt++));
    });
  }

  private async renewIfRefused(): Promise<void> {
    if (!this.secretRefused || !this.options.renewSecret) return;
    this.secretRefused = false;
    try {
      this.secret = await this.options.renewSecret(this.code);
    } catch {
      // Keep the old one; the back-off paces the next try.
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const receivedAtMs = Date.now();
    if (this.commandTopics.has(topic)) return this.onCommand(payload, receivedAtMs);
    // An empty retained payload clears the broker's copy; the speaker keeps what it stored.
    if (payload.length === 0) return;
    if (topic === deviceTopic(this.code, 'schedule')) return this.onSchedule(payload);
    if (topic === deviceTopic(this.code, 'config')) return this.onConfig(payload);
  }

  private onConfig(payload: Buffer): void {
    const config = parseObject<DeviceConfigPayload>(payload);
    // Firmware keeps its last good config when a bad one arrives.
    if (!config) return;
    const previous = this.config;
    const previousIntervalS = this.heartbeatIntervalS;
    this.config = config;
    // The retained config comes again on every reconnect: only a changed volume overrides set_volume.
    if (previous?.volume !== config.volume) this.volumeSetting = config.volume;
    if (this.heartbeatIntervalS !== previousIntervalS && this.connected) {
      this.scheduleHeartbeat(Math.random() * this.heartbeatIntervalS * 1000);
    }
  }

  private onSchedule(payload: Buffer): void {
    const schedule = parseObject<SchedulePayload>(payload);
    if (!schedule || !Number.isInteger(schedule.version) || !Array.isArray(schedule.items)) return;
    // An item the firmware cannot understand is left out; the rest still play.
    schedule.items = schedule.items.filter(
      (item) => typeof item?.occurrenceId === 'string' && Object.hasOwn(PRIORITY_RANK, item.priority) && isMedia(item.media),
    );
    if (!this.player.applySchedule(schedule)) return;
    this.emit('schedule', schedule);
    // Fetched ahead, as firmware keeps the schedule's media on local storage to play on time.
    if (this.media) for (const item of schedule.items) void this.media.ready(item.media);
  }

  private onCommand(payload: Buffer, receivedAtMs: number): void {
    const command = parseObject<CommandPayload>(payload);
    if (!command || typeof command.id !== 'string') return;
    const seen = this.acked.get(command.id);
    if (seen) {
      this.duplicateCommands++;
      if (receivedAtMs - seen.atMs >= DUPLICATE_WINDOW_MS) {
        seen.atMs = receivedAtMs;
        this.send('acks', seen.ack);
      }
      return;
    }
    this.emit('command', command, receivedAtMs);
    const ack = this.execute(command, receivedAtMs);
    this.acked.set(command.id, { ack, atMs: receivedAtMs });
    if (this.acked.size > REMEMBERED_COMMANDS) this.acked.delete(this.acked.keys().next().value!);
    this.send('acks', ack);
    this.emit('ack', ack);
    if (command.type === 'reboot' && ack.status === 'ok') this.reboot();
  }

  private execute(command: CommandPayload, nowMs: number): CommandAck {
    const commandId = command.id;
    const rejected = (error: string): CommandAck => ({ commandId, status: 'rejected', error });
    if (!(COMMAND_TYPES as readonly string[]).includes(command.type)) return rejected(`unknown command type ${String(command.type)}`);
    const expiresMs = Date.parse(command.expiresAt);
    if (Number.isNaN(expiresMs)) return rejected('invalid command: expiresAt is not a time');
    if (expiresMs <= nowMs) return rejected('expired');
    switch (command.type) {
      case 'play': {
        const startMs = command.startAt === undefined ? undefined : Date.parse(command.startAt);
        if (typeof command.occurrenceId !== 'string' || !Object.hasOwn(PRIORITY_RANK, command.priority) || !isMedia(command.media)) {
          return rejected('invalid command: play needs occurrenceId, priority and media');
        }
        if (Number.isNaN(startMs)) return rejected('invalid command: startAt is not a time');
        this.player.command({
          occurrenceId: command.occurrenceId,
          priority: command.priority,
          media: command.media,
          volume: command.volume,
          startMs,
          source: 'command',
        });
        break;
      }
      case 'stop':
        this.player.stop(command.occurrenceId);
        break;
      case 'set_volume':
        if (!Number.isInteger(command.volume) || command.volume < 0 || command.volume > 100) {
          return rejected('invalid command: volume must be an integer 0–100');
        }
        this.volumeSetting = command.volume;
        break;
      case 'sync':
        // Subscribing again makes the broker deliver the retained schedule and config anew.
        this.client?.subscribe([deviceTopic(this.code, 'schedule'), deviceTopic(this.code, 'config')], { qos: 1 }, () => undefined);
        break;
      case 'reboot':
        break;
    }
    return { commandId, status: 'ok' };
  }

  /** After its ack has gone: report what played as interrupted, drop the link, boot again in ~1 s. */
  private reboot(): void {
    const client = this.client;
    this.clearTimers();
    this.player.reboot();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.bootedAt = Date.now();
      this.player.arm();
      this.connect();
    }, REBOOT_MS);
    // The old link must not trigger the back-off reconnect nor deliver more commands.
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    // A graceful end lets the QoS 1 ack and event in flight reach the broker first.
    client?.end(false);
    this.connected = false;
  }

  private onPlayback(event: PlaybackEvent): void {
    this.send('events', event);
    this.emit('playback', event);
  }

  private send(channel: 'events' | 'acks', payload: PlaybackEvent | CommandAck): void {
    const message = { topic: deviceTopic(this.code, channel), payload: JSON.stringify(payload) };
    if (this.client && this.connected) this.transmit(this.client, message);
    else this.keep(message);
  }

  private transmit(client: MqttClient, message: Outgoing): void {
    client.publish(message.topic, message.payload, { qos: 1 }, (err) => {
      if (err) this.keep(message);
    });
  }

  private keep(message: Outgoing): void {
    if (this.outbox.length >= OUTBOX_LIMIT) this.outbox.shift();
    this.outbox.push(message);
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => this.beat(), delayMs);
  }

  private beat(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    if (this.options.flaky && Math.random() < 1 / 40) {
      client.stream.destroy();
      return;
    }
    client.publish(deviceTopic(this.code, 'heartbeat'), JSON.stringify(this.telemetry()), { qos: 0 });
    this.heartbeatsSent++;
    this.scheduleHeartbeat(this.heartbeatIntervalS * 1000);
  }

  private telemetry(): Heartbeat {
    this.rssi = Math.max(-110, Math.min(-50, this.rssi + Math.round((Math.random() - 0.5) * 6)));
    if (this.power === 'battery') this.battery = Math.max(5, this.battery - Math.random() * 0.05);
    const playing = this.player.playingOccurrenceId;
    return {
      seq: ++this.seq,
      uptimeS: Math.round((Date.now() - this.bootedAt) / 1000),
      volume: this.volume,
      rssi: this.rssi,
      power: this.power,
      battery: Math.round(this.battery),
      temperatureC: Math.round((30 + Math.random() * 20) * 10) / 10,
      firmware: '1.4.2',
      scheduleVersion: this.player.schedule?.version ?? 0,
      ...(playing ? { playing: { occurrenceId: playing } } : {}),
    };
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = this.reconnectTimer = null;
  }
}

function parseObject<T>(payload: Buffer): T | null {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as T) : null;
  } catch {
    return null;
  }
}

function isMedia(media: unknown): media is MediaPayload {
  if (typeof media !== 'object' || media === null) return false;
  const m = media as Record<string, unknown>;
  if (typeof m.streamUrl === 'string') return true;
  return typeof m.url === 'string' && typeof m.sha256 === 'string' && typeof m.durationMs === 'number' && m.durationMs >= 0;
}
