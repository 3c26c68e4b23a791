import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import type { PlayCommand } from '../broker/payloads.js';
import { areaCommandsTopic, deviceTopic } from '../broker/topics.js';
import { AppConfig } from '../config/app-config.js';
import { DeviceInbox } from '../devices/device-inbox.js';
import { Media } from '../media/media.entity.js';
import { MediaService } from '../media/media.service.js';
import { MetricsRegistry } from '../metrics/metrics-registry.service.js';
import { JOBS, QUEUES } from '../queues/queues.js';
import type { Broadcast } from './broadcast.entity.js';
import type { PlannedOccurrence } from './occurrence-planner.service.js';

const MAX_RETRY_MS = 60_000;
/**
 * Reconnecting devices are looked up together (a tower coming back brings hundreds at once),
 * and not at once: a clean-session device subscribes only after its CONNACK.
 */
const RECONNECT_BATCH_MS = 1000;
/** How long the "is any immediate broadcast still open?" answer is trusted before asking Postgres again. */
const OPEN_CHECK_MS = 2000;

export interface RetryPlayJob {
  occurrenceId: string;
  attempt: number;
}

interface OpenPlay {
  occurrence_id: string;
  command_id: string;
  start_at: Date;
  expires_at: Date;
  priority: PlayCommand['priority'];
  volume: number | null;
  media_id: string;
}

/**
 * Immediate (`now`) broadcasts go out as one `play` command: once per targeted area topic
 * (every device of the subtree is subscribed to it) and per targeted device. Devices that
 * have not acked get it again on their own topic — on a backing-off timer while they are
 * online, and at once when they reconnect — until it expires. The command id is the
 * occurrence's, so a device acks and plays it once however many copies arrive.
 */
@Injectable()
export class PlayDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PlayDispatcher.name);
  private reconnected = new Set<string>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private openUntil = 0;
  private openCheckedAt = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(MediaService) private readonly media: MediaService,
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
    @Inject(AppConfig) private readonly config: AppConfig,
    @InjectQueue(QUEUES.scheduling) private readonly queue: Queue,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    this.inbox.subscribe({ onConnected: (code) => this.onReconnect(code) });
  }

  /** A batch still waiting is for links this instance is closing: the devices get the play where they reconnect. */
  onModuleDestroy(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.reconnected.clear();
  }

  async dispatch(broadcast: Broadcast, occurrence: PlannedOccurrence, areaCodes: string[], deviceCodes: string[]): Promise<void> {
    const command = this.command({
      occurrence_id: occurrence.id,
      command_id: occurrence.commandId!,
      start_at: occurrence.startAt,
      expires_at: broadcast.expiresAt!,
      priority: broadcast.priority,
      volume: broadcast.volume,
      media_id: broadcast.mediaId,
    }, broadcast.media);
    const topics = [...areaCodes.map(areaCommandsTopic), ...deviceCodes.map((code) => deviceTopic(code, 'commands'))];
    await Promise.all(topics.map((topic) => this.broker.publish(topic, command, { qos: 1 })));
    this.metrics.dispatchLatency.observe(Math.max(0, Date.now() - occurrence.startAt.getTime()) / 1000);
    this.openUntil = Math.max(this.openUntil, broadcast.expiresAt!.getTime());
    this.logger.log(
      `${broadcast.priority} broadcast ${broadcast.id}: play command sent on ${areaCodes.length} area topic(s) and ${deviceCodes.length} device topic(s)`,
    );
  }

  /** Starts the re-sending of `retry`; called once the occurrence's deliveries are written, since it looks for pending ones. */
  async watchUnacknowledged(broadcast: Broadcast, occurrence: PlannedOccurrence): Promise<void> {
    await this.scheduleRetry(occurrence.id, 1, broadcast.expiresAt!);
  }

  /** Re-sends to online devices that have not acked; returns how many were sent. */
  async retry({ occurrenceId, attempt }: RetryPlayJob): Promise<number> {
    const [open] = await this.openPlays(`o.id = $1`, [occurrenceId]);
    if (!open) return 0;
    const rows = await this.db.query<{ code: string; online: boolean }[]>(
      `SELECT d.code, d.state = 'online' AS online FROM deliveries dl JOIN devices d ON d.id = dl.device_id
       WHERE dl.occurrence_id = $1 AND dl.status = 'pending'`,
      [occurrenceId],
    );
    const online = rows.filter((r) => r.online).map((r) => r.code);
    await this.sendToDevices(open, online);
    if (rows.length) await this.scheduleRetry(occurrenceId, attempt + 1, new Date(open.expires_at));
    if (online.length) this.logger.log(`occurrence ${occurrenceId}: play re-sent to ${online.length} unacknowledged online device(s) (attempt ${attempt})`);
    return online.length;
  }

  private onReconnect(code: string): void {
    if (Date.now() - this.openCheckedAt > OPEN_CHECK_MS) {
      // Another instance may have dispatched since: look again, off the broker's path.
      this.openCheckedAt = Date.now();
      void this.db
        .query<{ until: Date | null }[]>(`SELECT max(expires_at) AS until FROM broadcasts WHERE state = 'active' AND schedule_kind = 'now'`)
        .then(([row]) => {
          this.openUntil = Math.max(this.openUntil, row.until ? new Date(row.until).getTime() : 0);
          if (Date.now() < this.openUntil) this.queueReconnect(code);
        })
        .catch((err: unknown) => this.logger.error(`open broadcasts not checked: ${String(err)}`));
      return;
    }
    if (Date.now() < this.openUntil) this.queueReconnect(code);
  }

  private queueReconnect(code: string): void {
    this.reconnected.add(code);
    this.reconnectTimer ??= setTimeout(() => {
      const codes = [...this.reconnected];
      this.reconnected = new Set();
      this.reconnectTimer = null;
      this.resendTo(codes).catch((err: unknown) => this.logger.error(`play not re-sent to reconnected devices: ${String(err)}`));
    }, RECONNECT_BATCH_MS);
  }

  private async resendTo(codes: string[]): Promise<void> {
    const rows = await this.db.query<(OpenPlay & { code: string })[]>(
      `SELECT ${OPEN_PLAY_COLUMNS}, d.code FROM deliveries dl
       JOIN devices d ON d.id = dl.device_id
       JOIN occurrences o ON o.id = dl.occurrence_id
       JOIN broadcasts b ON b.id = o.broadcast_id
       WHERE d.code = ANY($1) AND dl.status = 'pending' AND o.command_id IS NOT NULL AND o.cancelled_at IS NULL
         AND b.state = 'active' AND b.expires_at > now()`,
      [codes],
    );
    const byOccurrence = new Map<string, { open: OpenPlay; codes: string[] }>();
    for (const row of rows) {
      const entry = byOccurrence.get(row.occurrence_id) ?? { open: row, codes: [] };
      entry.codes.push(row.code);
      byOccurrence.set(row.occurrence_id, entry);
    }
    for (const { open, codes: toSend } of byOccurrence.values()) await this.sendToDevices(open, toSend);
    if (rows.length) this.logger.log(`play re-sent to ${rows.length} reconnected device(s)`);
  }

  private async sendToDevices(open: OpenPlay, codes: string[]): Promise<void> {
    if (!codes.length) return;
    const media = await this.db.getRepository(Media).findOneByOrFail({ id: open.media_id });
    const command = this.command(open, media);
    await Promise.all(codes.map((code) => this.broker.publish(deviceTopic(code, 'commands'), command, { qos: 1 })));
  }

  private openPlays(where: string, params: unknown[]): Promise<OpenPlay[]> {
    return this.db.query<OpenPlay[]>(
      `SELECT ${OPEN_PLAY_COLUMNS} FROM occurrences o JOIN broadcasts b ON b.id = o.broadcast_id
       WHERE ${where} AND o.command_id IS NOT NULL AND o.cancelled_at IS NULL AND b.state = 'active' AND b.expires_at > now()`,
      params,
    );
  }

  /** The same command every time it is sent for an occurrence: devices deduplicate by its id. */
  private command(open: OpenPlay, media: Media): PlayCommand {
    return {
      id: open.command_id,
      type: 'play',
      issuedAt: new Date(open.start_at).toISOString(),
      expiresAt: new Date(open.expires_at).toISOString(),
      occurrenceId: open.occurrence_id,
      priority: open.priority,
      media: this.media.devicePayload(media, new Date(open.start_at)),
      ...(open.volume === null ? {} : { volume: open.volume }),
    };
  }

  private async scheduleRetry(occurrenceId: string, attempt: number, expiresAt: Date): Promise<void> {
    const delay = Math.min(this.config.PLAY_RETRY_S * 1000 * 2 ** (attempt - 1), MAX_RETRY_MS);
    if (Date.now() + delay >= expiresAt.getTime()) return;
    await this.queue.add(JOBS.retryPlay, { occurrenceId, attempt } satisfies RetryPlayJob, {
      delay,
      jobId: `retry-play-${occurrenceId}-${attempt}`,
      removeOnComplete: true,
    });
  }
}

const OPEN_PLAY_COLUMNS = `o.id AS occurrence_id, o.command_id, o.start_at, b.expires_at, b.priority, b.volume, b.media_id`;
