import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceConfigPayload, Heartbeat } from '../src/broker/payloads.js';
import { deviceTopic } from '../src/broker/topics.js';

export interface SpeakerOptions {
  code: string;
  secret: string;
  mqttUrl: string;
  /** Drop the link now and then (about once per 40 heartbeats) and let the back-off restore it. */
  flaky?: boolean;
  /** Heartbeat interval until the retained DeviceConfig says otherwise. */
  defaultHeartbeatIntervalS?: number;
  /** Asked for a fresh secret when Loa refuses the one we hold (e.g. the database was reset). */
  renewSecret?: (code: string) => Promise<string>;
}

/** Reconnect back-off of the protocol's firmware guidance: 1 s doubling to 5 min, ±50% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(1000 * 2 ** attempt, 300_000);
  return Math.round(base * (0.5 + random()));
}

/**
 * One simulated speaker cluster, written as firmware should be: it stores its retained
 * config, heartbeats at the configured interval from a random offset, and reconnects with
 * jittered exponential back-off.
 */
export class SimulatedSpeaker {
  readonly code: string;
  client: MqttClient | null = null;
  config: DeviceConfigPayload | null = null;
  connected = false;
  heartbeatsSent = 0;
  reconnects = 0;
  private seq = 0;
  private attempt = 0;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly bootedAt = Date.now();
  private rssi = -60 - Math.round(Math.random() * 40);
  private battery = 60 + Math.random() * 40;
  private readonly power: 'mains' | 'battery' = Math.random() < 0.8 ? 'mains' : 'battery';
  private secret: string;
  private secretRefused = false;

  constructor(private readonly options: SpeakerOptions) {
    this.code = options.code;
    this.secret = options.secret;
  }

  get heartbeatIntervalS(): number {
    return this.config?.heartbeatIntervalS ?? this.options.defaultHeartbeatIntervalS ?? 30;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** A clean shutdown: DISCONNECT, no reconnect. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    await this.client?.endAsync().catch(() => undefined);
    this.connected = false;
  }

  /** Power cut: the socket dies without DISCONNECT and nothing comes back. */
  kill(): void {
    this.stopped = true;
    this.clearTimers();
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
      client.subscribe(
        [deviceTopic(this.code, 'config'), deviceTopic(this.code, 'schedule'), deviceTopic(this.code, 'commands')],
        { qos: 1 },
      );
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
    if (topic !== deviceTopic(this.code, 'config') || payload.length === 0) return;
    const previousIntervalS = this.heartbeatIntervalS;
    try {
      this.config = JSON.parse(payload.toString('utf8')) as DeviceConfigPayload;
    } catch {
      // Firmware keeps its last good config when a bad one arrives.
      return;
    }
    if (this.heartbeatIntervalS !== previousIntervalS && this.connected) {
      this.scheduleHeartbeat(Math.random() * this.heartbeatIntervalS * 1000);
    }
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
    return {
      seq: ++this.seq,
      uptimeS: Math.round((Date.now() - this.bootedAt) / 1000),
      volume: this.config?.volume ?? 80,
      rssi: this.rssi,
      power: this.power,
      battery: Math.round(this.battery),
      temperatureC: Math.round((30 + Math.random() * 20) * 10) / 10,
      firmware: '1.4.2',
      scheduleVersion: 0,
    };
  }

  private clearTimers(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.heartbeatTimer = this.reconnectTimer = null;
  }
}
