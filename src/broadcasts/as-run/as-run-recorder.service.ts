import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { CommandAck, PlaybackEvent } from '../../broker/payloads.js';
import { DeviceInbox, type DeviceInboxListener } from '../../devices/device-inbox.js';
import { JOBS, QUEUES } from '../../queues/queues.js';
import type { AckReport, AsRunBatchJob, PlaybackReport, ScheduleVersionReport } from './as-run-batch.js';
import { PlaybackRejections } from './playback-rejections.service.js';

/** An emergency to 10,000 speakers brings 10,000 acks in a second or two; this many ms of them make one job. */
export const AS_RUN_FLUSH_MS = 150;
/** While Redis is unreachable, reports wait in memory for the next flush, up to this many. */
const MAX_HELD_REPORTS = 200_000;

/**
 * Hears what devices report about plays (acks of `play` commands, the Schedule version
 * they hold, playback events) and hands it to the `as-run` queue as one batch every
 * AS_RUN_FLUSH_MS. Nothing here touches Postgres: it runs on the broker's path, and
 * `AsRunWriter` applies a whole batch with a few set-based statements.
 */
@Injectable()
export class AsRunRecorder implements DeviceInboxListener, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AsRunRecorder.name);
  private acks: AckReport[] = [];
  private scheduleVersions = new Map<string, ScheduleVersionReport>();
  /** Keyed by event id: a re-send within one interval is dropped here, later ones by the database. */
  private events = new Map<string, PlaybackReport>();
  /**
   * The highest Schedule version each device has reported to this process. Heartbeats
   * repeat the same version every 30 s from every speaker, and only a new version can
   * confirm a new delivery, so repeats cost nothing. Memory per process is enough: a
   * device's heartbeats reach the process holding its connection, and a process that has
   * not seen it yet (restart, reconnect elsewhere) merely applies the version once more,
   * which the idempotent UPDATE shrugs off.
   */
  private readonly confirmedVersions = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
    @Inject(PlaybackRejections) private readonly rejections: PlaybackRejections,
    @InjectQueue(QUEUES.asRun) private readonly queue: Queue<AsRunBatchJob>,
  ) {}

  onModuleInit(): void {
    this.inbox.subscribe(this);
    this.timer = setInterval(() => void this.flush(), AS_RUN_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** Every ack is kept: only the batch's join with occurrences tells a `play` ack from a single-device command's. */
  onAck(code: string, ack: CommandAck): void {
    this.acks.push({ code, commandId: ack.commandId, status: ack.status, error: text(ack.error), at: new Date().toISOString() });
  }

  onScheduleVersion(code: string, version: number): void {
    if (version <= (this.confirmedVersions.get(code) ?? -1)) return;
    this.confirmedVersions.set(code, version);
    this.scheduleVersions.set(code, { code, version, at: new Date().toISOString() });
  }

  onPlaybackEvent(code: string, event: PlaybackEvent): void {
    const at = databaseTime(event.at);
    if (!at) return this.rejections.reject(code, `event ${event.id}: time ${JSON.stringify(event.at)} out of range`);
    if (this.events.has(event.id)) return;
    this.events.set(event.id, {
      code,
      id: event.id,
      type: event.type,
      occurrenceId: event.occurrenceId,
      at,
      reason: text(event.reason),
      receivedAt: new Date().toISOString(),
    });
  }

  /** Queues what is buffered now; resolves once the batch is in Redis (not yet in Postgres). */
  async flush(): Promise<void> {
    if (!this.acks.length && !this.scheduleVersions.size && !this.events.size) return;
    const batch: AsRunBatchJob = {
      acks: this.acks,
      scheduleVersions: [...this.scheduleVersions.values()],
      events: [...this.events.values()],
    };
    this.acks = [];
    this.scheduleVersions = new Map();
    this.events = new Map();
    try {
      // Batches can be megabytes: keep none once applied. Applying is one transaction, so a retry is safe.
      await this.queue.add(JOBS.asRunBatch, batch, {
        attempts: 5,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: 100,
      });
    } catch (err) {
      this.holdForNextFlush(batch, err as Error);
    }
  }

  /** A lost ack is never re-sent by the device (it acks a command once), so a failed hand-off is retried. */
  private holdForNextFlush(batch: AsRunBatchJob, err: Error): void {
    const held = this.acks.length + this.scheduleVersions.size + this.events.size;
    const size = batch.acks.length + batch.scheduleVersions.length + batch.events.length;
    if (held + size > MAX_HELD_REPORTS) {
      this.logger.error(`as-run batch of ${size} report(s) dropped, ${held} already waiting: ${err.message}`);
      return;
    }
    this.logger.warn(`as-run batch of ${size} report(s) not queued, retrying with the next flush: ${err.message}`);
    this.acks = [...batch.acks, ...this.acks];
    for (const v of batch.scheduleVersions) {
      if ((this.scheduleVersions.get(v.code)?.version ?? -1) < v.version) this.scheduleVersions.set(v.code, v);
    }
    const newer = this.events;
    this.events = new Map(batch.events.map((e) => [e.id, e]));
    for (const [id, e] of newer) if (!this.events.has(id)) this.events.set(id, e);
  }
}

/** Postgres refuses NUL in text, and one refused value would fail the whole batch. */
function text(value: string | null | undefined): string | null {
  return value == null ? null : value.replaceAll('\u0000', '');
}

/** The device's ISO time as an instant Postgres accepts, or null when it is unreadable or absurd. */
function databaseTime(iso: string): string | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1970 && year <= 9999 ? new Date(ms).toISOString() : null;
}
