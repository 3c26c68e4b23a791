import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { Repository } from 'typeorm';
import type { Principal } from '../../auth/principal.js';
import { scopeLikePattern } from '../../auth/scope.js';
import { BrokerService } from '../../broker/broker.service.js';
import type { CommandAck, CommandPayload } from '../../broker/payloads.js';
import { deviceTopic } from '../../broker/topics.js';
import { pageOf, type Page } from '../../common/page.js';
import { updateReturning } from '../../common/postgres.js';
import type { CommandAckEventData, LiveEventInput } from '../../events/live-event.js';
import { LiveEvents } from '../../events/live-events.service.js';
import { JOBS, QUEUES } from '../../queues/queues.js';
import { RedisService } from '../../redis/redis.module.js';
import { DeviceCommand } from '../device-command.entity.js';
import { DeviceInbox, type DeviceInboxListener } from '../device-inbox.js';
import { Device } from '../device.entity.js';
import {
  DEFAULT_COMMAND_TTL_S,
  toDeviceCommandDto,
  type DeviceCommandDto,
  type IssueCommandDto,
  type IssuedCommandDto,
  type ListCommandsQueryDto,
} from './dto/device-command.dto.js';

/** A pending command is published again this often until it is acked or expires. */
export const COMMAND_RETRY_MS = 10_000;
/**
 * A clean-session device subscribes to its commands topic only after CONNACK, so a command
 * published at the instant it connects would reach nobody; wait this long first.
 */
export const RECONNECT_SETTLE_MS = 1000;
/** Acks are checked against the pending set together, this often. */
const ACK_BATCH_MS = 20;

export interface RetryCommandJob {
  commandId: string;
  /** Which retry of the chain this is; part of the job id, so one chain has one job per round. */
  round: number;
}

interface SentRow {
  payload: CommandPayload;
  code: string;
}

/**
 * Commands to one device from the API: recorded, published at QoS 1 on the device's commands
 * topic, and published again (every 10 s, and when the device reconnects) until the device
 * acks it or it expires. Only the first ack counts.
 */
@Injectable()
export class DeviceCommands implements DeviceInboxListener, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeviceCommands.name);
  private readonly settleTimers = new Set<NodeJS.Timeout>();
  private acks: { code: string; ack: CommandAck; ackedAt: Date }[] = [];
  private ackTimer: NodeJS.Timeout | null = null;
  /**
   * Ids of pending commands, and codes of devices that have one, in Redis: every ack and
   * every connect of the fleet passes here (an emergency brings 10,000 play acks within
   * seconds), and almost none concern an API command, so a set lookup spares Postgres.
   */
  private readonly pendingIdsKey: string;
  private readonly pendingDevicesKey: string;

  constructor(
    @InjectRepository(DeviceCommand) private readonly commands: Repository<DeviceCommand>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(DeviceInbox) private readonly inbox: DeviceInbox,
    @InjectQueue(QUEUES.commands) private readonly queue: Queue<RetryCommandJob>,
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(LiveEvents) private readonly events: LiveEvents,
  ) {
    this.pendingIdsKey = redis.key('commands', 'pending-ids');
    this.pendingDevicesKey = redis.key('commands', 'pending-devices');
  }

  /** Rebuilds the pending sets from Postgres, which stays the truth if Redis lost them. */
  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.commands.query(
      `SELECT c.id, d.code FROM device_commands c JOIN devices d ON d.id = c.device_id
       WHERE c.status = 'pending' AND c.expires_at > now()`,
    ) as { id: string; code: string }[];
    if (!rows.length) return;
    await this.redis.client
      .multi()
      .sadd(this.pendingIdsKey, ...rows.map((r) => r.id))
      .sadd(this.pendingDevicesKey, ...rows.map((r) => r.code))
      .exec();
  }

  onModuleInit(): void {
    this.inbox.subscribe(this);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.ackTimer) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
      const batch = this.acks;
      this.acks = [];
      if (batch.length) await this.recordAcks(batch).catch((err: unknown) => this.logger.error(`${batch.length} ack(s) not checked: ${String(err)}`));
    }
    for (const timer of this.settleTimers) clearTimeout(timer);
    this.settleTimers.clear();
  }

  async issue(code: string, dto: IssueCommandDto, principal: Principal): Promise<IssuedCommandDto> {
    const device = await this.deviceInScope(code, principal, { active: true });
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + (dto.expiresInS ?? DEFAULT_COMMAND_TTL_S) * 1000);
    const payload = commandPayload(dto, randomUUID(), issuedAt, expiresAt);
    await this.commands.insert({
      id: payload.id,
      deviceId: device.id,
      type: payload.type,
      payload,
      status: 'pending',
      attempts: 0,
      issuedAt,
      expiresAt,
      issuedById: principal.userId,
    });
    await this.redis.client.multi().sadd(this.pendingIdsKey, payload.id).sadd(this.pendingDevicesKey, code).exec();
    const sent = await this.sendIfPending(payload.id);
    await this.scheduleRetry(payload.id, 1, expiresAt);
    this.logger.log(`device ${code}: ${payload.type} command ${payload.id} issued`);
    return { id: payload.id, type: dto.type, status: 'pending', issuedAt: payload.issuedAt, expiresAt: payload.expiresAt, attempts: sent ? 1 : 0 };
  }

  async get(code: string, id: string, principal: Principal): Promise<DeviceCommandDto> {
    const qb = this.commands
      .createQueryBuilder('c')
      .innerJoin('c.device', 'd')
      .innerJoin('d.area', 'a')
      .where('c.id = :id AND d.code = :code', { id, code });
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    const command = await qb.getOne();
    if (!command) throw new NotFoundException({ error: 'not-found', message: `device ${code} has no command ${id}` });
    return toDeviceCommandDto(command);
  }

  async list(code: string, query: ListCommandsQueryDto, principal: Principal): Promise<Page<DeviceCommandDto>> {
    const device = await this.deviceInScope(code, principal, { active: false });
    const [rows, total] = await this.commands.findAndCount({
      where: { deviceId: device.id },
      order: { issuedAt: 'DESC', id: 'ASC' },
      skip: query.skip,
      take: query.pageSize,
    });
    return pageOf(rows.map(toDeviceCommandDto), total, query);
  }

  /** A device outside the caller's subtree is answered exactly like a missing one. */
  private async deviceInScope(code: string, principal: Principal, { active }: { active: boolean }): Promise<{ id: string }> {
    const qb = this.devices.createQueryBuilder('d').innerJoin('d.area', 'a').select('d.id', 'id').where('d.code = :code', { code });
    if (active) qb.andWhere('d.decommissioned_at IS NULL');
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    const device = await qb.getRawOne<{ id: string }>();
    if (!device) throw new NotFoundException({ error: 'not-found', message: `device ${code} not found` });
    return device;
  }

  /** One round of the retry chain: publish again while pending, or record that it expired. */
  async retry(job: RetryCommandJob): Promise<'sent' | 'expired' | 'settled'> {
    const now = new Date();
    const sent = await this.sendIfPending(job.commandId, now);
    if (sent) {
      await this.scheduleRetry(job.commandId, job.round + 1, new Date(sent.payload.expiresAt));
      return 'sent';
    }
    const expired = await updateReturning<{ id: string }>(
      this.commands,
      `UPDATE device_commands SET status = 'expired' WHERE id = $1 AND status = 'pending' AND expires_at <= $2 RETURNING id`,
      [job.commandId, now],
    );
    if (!expired.length) return 'settled';
    this.logger.log(`command ${job.commandId} expired unacknowledged`);
    await this.redis.client.srem(this.pendingIdsKey, job.commandId);
    return 'expired';
  }

  /**
   * On the broker's path, never awaited. Acks are gathered for ACK_BATCH_MS and their
   * distinct command ids checked against the pending set with one SMISMEMBER: an
   * emergency's 10,000 play acks then cost a handful of one-id Redis calls instead of one
   * call each; only our own commands reach Postgres.
   */
  onAck(code: string, ack: CommandAck): void {
    this.acks.push({ code, ack, ackedAt: new Date() });
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = null;
      const batch = this.acks;
      this.acks = [];
      this.recordAcks(batch).catch((err: unknown) => this.logger.error(`${batch.length} ack(s) not checked: ${String(err)}`));
    }, ACK_BATCH_MS);
  }

  private async recordAcks(batch: { code: string; ack: CommandAck; ackedAt: Date }[]): Promise<void> {
    // An emergency's acks all carry its one play command id: ask Redis about each id once.
    const ids = [...new Set(batch.map((b) => b.ack.commandId))];
    const flags = await this.redis.client.smismember(this.pendingIdsKey, ...ids);
    const pending = new Set(ids.filter((_, i) => flags[i]));
    const announced: LiveEventInput[] = [];
    for (const { code, ack, ackedAt } of batch) {
      if (!pending.has(ack.commandId)) continue;
      try {
        const [acked] = await updateReturning<{ type: string; areaPath: string }>(
          this.commands,
          `UPDATE device_commands c SET status = $3, acked_at = $4, error = $5
             FROM devices d JOIN areas a ON a.id = d.area_id
            WHERE c.id = $1 AND c.status = 'pending' AND d.id = c.device_id AND d.code = $2
            RETURNING c.type, a.path AS "areaPath"`,
          [ack.commandId, code, ack.status, ackedAt, ack.error ?? null],
        );
        if (!acked) continue;
        await this.redis.client.srem(this.pendingIdsKey, ack.commandId);
        const data: CommandAckEventData = { deviceCode: code, commandId: ack.commandId, type: acked.type, status: ack.status };
        announced.push({ type: 'command.ack', areaPath: acked.areaPath, data });
      } catch (err) {
        this.logger.error(`ack of command ${ack.commandId} from ${code} not recorded: ${String(err)}`);
      }
    }
    void this.events.publish(announced);
  }

  /** A device that was offline gets its pending commands as soon as it can hear them. */
  onConnected(code: string): void {
    const timer = setTimeout(() => {
      this.settleTimers.delete(timer);
      this.resendPendingTo(code).catch((err: unknown) => this.logger.error(`pending commands of ${code} not resent: ${String(err)}`));
    }, RECONNECT_SETTLE_MS);
    timer.unref();
    this.settleTimers.add(timer);
  }

  private async resendPendingTo(code: string): Promise<void> {
    if (!(await this.redis.client.sismember(this.pendingDevicesKey, code))) return;
    const rows = await updateReturning<SentRow>(
      this.commands,
      `UPDATE device_commands c SET attempts = c.attempts + 1, last_sent_at = $2
         FROM devices d
        WHERE d.code = $1 AND c.device_id = d.id AND c.status = 'pending' AND c.expires_at > $2
        RETURNING c.payload, d.code`,
      [code, new Date()],
    );
    if (!rows.length) await this.redis.client.srem(this.pendingDevicesKey, code);
    rows.sort((a, b) => a.payload.issuedAt.localeCompare(b.payload.issuedAt));
    for (const row of rows) await this.publish(row);
  }

  /** Counts the attempt and publishes, only while the command is pending and unexpired. */
  private async sendIfPending(id: string, now = new Date()): Promise<SentRow | null> {
    const [row] = await updateReturning<SentRow>(
      this.commands,
      `UPDATE device_commands c SET attempts = c.attempts + 1, last_sent_at = $2
         FROM devices d
        WHERE c.id = $1 AND c.status = 'pending' AND c.expires_at > $2 AND d.id = c.device_id
        RETURNING c.payload, d.code`,
      [id, now],
    );
    if (!row) return null;
    await this.publish(row);
    return row;
  }

  /** A failed publish is logged, not thrown: the next retry round tries again. */
  private async publish(row: SentRow): Promise<void> {
    try {
      await this.broker.publish(deviceTopic(row.code, 'commands'), row.payload, { qos: 1 });
    } catch (err) {
      this.logger.warn(`command ${row.payload.id} to ${row.code} not published: ${String(err)}`);
    }
  }

  private async scheduleRetry(commandId: string, round: number, expiresAt: Date): Promise<void> {
    // The last round lands on the expiry, so an unacked command is marked expired on time.
    const delay = Math.max(0, Math.min(COMMAND_RETRY_MS, expiresAt.getTime() - Date.now()));
    await this.queue.add(
      JOBS.retryCommand,
      { commandId, round },
      { delay, jobId: `command-${commandId}-${round}`, removeOnComplete: true, removeOnFail: 100 },
    );
  }
}

function commandPayload(dto: IssueCommandDto, id: string, issuedAt: Date, expiresAt: Date): CommandPayload {
  const base = { id, issuedAt: issuedAt.toISOString(), expiresAt: expiresAt.toISOString() };
  switch (dto.type) {
    case 'set_volume':
      return { ...base, type: 'set_volume', volume: dto.volume! };
    case 'stop':
      return dto.occurrenceId ? { ...base, type: 'stop', occurrenceId: dto.occurrenceId } : { ...base, type: 'stop' };
    case 'sync':
      return { ...base, type: 'sync' };
    case 'reboot':
      return { ...base, type: 'reboot' };
  }
}
