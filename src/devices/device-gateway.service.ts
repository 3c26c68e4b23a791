import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BrokerService, type BrokerDeviceHooks, type DeviceSession } from '../broker/broker.service.js';
import { parseInboundPayload, type CommandAck, type Heartbeat, type PlaybackEvent } from '../broker/payloads.js';
import type { DeviceInboundChannel } from '../broker/topics.js';
import { JOBS, QUEUES } from '../queues/queues.js';
import { DeviceCredentials } from './device-credentials.service.js';
import { DeviceInbox } from './device-inbox.js';
import { LivenessStore } from './liveness/liveness.store.js';
import { TelemetryBuffer } from './telemetry-buffer.service.js';

const LOG_EVERY_MS = 60_000;
/** Heartbeats closer together than this refresh telemetry only; liveness needs no finer grain. */
const LIVENESS_REFRESH_MS = 1000;

/**
 * The only code that reads what devices send. It validates, then hands work to Redis and
 * BullMQ; nothing here waits on Postgres, and nothing a device sends can throw into the
 * broker.
 */
@Injectable()
export class DeviceGateway implements BrokerDeviceHooks, OnModuleInit {
  private readonly logger = new Logger(DeviceGateway.name);
  /** When each device's rejections were last logged: one line per device per minute. */
  private readonly lastLogged = new Map<string, number>();
  /** When each connected device last refreshed its liveness deadline, to spare Redis a flood. */
  private readonly lastRefresh = new Map<string, number>();
  /** The sessions open on this instance, by device code, for `reassertLinks`. */
  private readonly open = new Map<string, DeviceSession>();

  constructor(
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(DeviceCredentials) private readonly credentials: DeviceCredentials,
    @Inject(LivenessStore) private readonly liveness: LivenessStore,
    @Inject(TelemetryBuffer) private readonly telemetry: TelemetryBuffer,
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
    @InjectQueue(QUEUES.liveness) private readonly livenessQueue: Queue,
  ) {}

  onModuleInit(): void {
    this.broker.attach(this);
  }

  authenticate(code: string, secret: string) {
    return this.credentials.authenticate(code, secret);
  }

  onConnected(session: DeviceSession): void {
    this.open.set(session.access.code, session);
    this.recordLink(session, 'connect');
    this.inbox.connected(session.access.code);
  }

  onDisconnected(session: DeviceSession): void {
    this.lastRefresh.delete(session.access.code);
    if (this.open.get(session.access.code) === session) this.open.delete(session.access.code);
    this.liveness
      .disconnected(session.access.code, session.connId)
      .catch((err: unknown) => this.logger.error(`disconnect of ${session.access.code} not recorded: ${String(err)}`));
  }

  /**
   * Records every link open on this instance as connected again. Used when this instance
   * finds its lease had lapsed: the sweep may have taken it for dead and started its
   * speakers' grace periods. A device that has since connected elsewhere has a newer
   * connection id, so its stale connect changes nothing.
   */
  reassertLinks(): number {
    const sessions = [...this.open.values()];
    for (const session of sessions) this.recordLink(session, 're-asserted link');
    return sessions.length;
  }

  private recordLink(session: DeviceSession, what: string): void {
    this.track(this.liveness.connected(session.access.code, session.connId), `${what} of ${session.access.code}`);
  }

  onInbound(session: DeviceSession, channel: DeviceInboundChannel, payload: Buffer): void {
    const { code } = session.access;
    const parsed = parseInboundPayload(channel, payload);
    if (!parsed.ok) return this.reject(code, parsed.reason);
    switch (channel) {
      case 'heartbeat': {
        const heartbeat = parsed.value as Heartbeat;
        this.telemetry.record(code, heartbeat);
        if (heartbeat.scheduleVersion != null) this.inbox.scheduleVersion(code, heartbeat.scheduleVersion);
        const now = Date.now();
        if (now - (this.lastRefresh.get(code) ?? 0) < LIVENESS_REFRESH_MS) return;
        this.lastRefresh.set(code, now);
        this.track(this.liveness.heartbeat(code), `heartbeat of ${code}`);
        return;
      }
      case 'events':
        return this.inbox.playbackEvent(code, parsed.value as PlaybackEvent);
      case 'acks':
        return this.inbox.ack(code, parsed.value as CommandAck);
    }
  }

  onDenied(session: DeviceSession, action: 'publish' | 'subscribe', topic: string): void {
    this.reject(session.access.code, `${action} to ${JSON.stringify(topic.slice(0, 200))} denied`);
  }

  private reject(code: string, reason: string): void {
    this.telemetry.countRejected(code);
    const now = Date.now();
    if (now - (this.lastLogged.get(code) ?? 0) < LOG_EVERY_MS) return;
    if (this.lastLogged.size > 50_000) this.lastLogged.clear();
    this.lastLogged.set(code, now);
    this.logger.warn(`device ${code}: message dropped: ${reason} (further drops counted, logged again in 1 min)`);
  }

  /** A state change is persisted shortly after, by one job however many changes arrive. */
  private track(change: Promise<boolean>, what: string): void {
    change
      .then((changed) => {
        if (!changed) return;
        return this.livenessQueue.add(JOBS.persistTransitions, null, {
          delay: 100,
          deduplication: { id: JOBS.persistTransitions, keepLastIfActive: true },
        });
      })
      .catch((err: unknown) => this.logger.error(`${what} not recorded: ${String(err)}`));
  }
}
