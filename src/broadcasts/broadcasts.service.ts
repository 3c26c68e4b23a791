import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { updateReturning } from '../common/postgres.js';
import { DataSource, Repository, type EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';
import { BrokerService } from '../broker/broker.service.js';
import type { StopCommand } from '../broker/payloads.js';
import { deviceTopic } from '../broker/topics.js';
import type { Bulletin } from '../bulletins/bulletin.entity.js';
import { BulletinsService, type BulletinWithMedia } from '../bulletins/bulletins.service.js';
import { pageOf, type Page } from '../common/page.js';
import { AppConfig } from '../config/app-config.js';
import { Broadcast } from './broadcast.entity.js';
import type { Media } from '../media/media.entity.js';
import { BroadcastTargets, type ResolvedTargets } from './broadcast-targets.service.js';
import { awaitDeliveriesSql } from './deliveries-lock.js';
import { toBroadcastDto, type BroadcastDetailDto, type BroadcastDto, type CreatedBroadcastDto, type OccurrenceProgressDto } from './dto/broadcast.response.js';
import type { CreateBroadcastDto } from './dto/create-broadcast.dto.js';
import type { EmergencyBroadcastDto, EmergencyBroadcastResultDto } from './dto/emergency-broadcast.dto.js';
import type { ListBroadcastsQueryDto } from './dto/list-broadcasts.dto.js';
import { HorizonKeeper } from './horizon-keeper.service.js';
import { MissedPlays } from './missed-plays.service.js';
import { ImmediateStart } from './immediate-start.service.js';
import { noOverlaps, OccurrencePlanner, type OverlapOutcome, type PlannedOccurrence } from './occurrence-planner.service.js';
import { isTimeZone, recurrenceProblem } from './recurrence.js';
import { SchedulePublisher } from './schedule-publisher.service.js';

const DEFAULT_EXPIRES_IN_S = 600;
/** How long a stop command for a cancelled play stays valid: it is only useful while the play lasts. */
const STOP_TTL_MS = 10 * 60_000;

interface BroadcastPlan {
  schedule: Pick<Broadcast, 'startAt' | 'rrule' | 'until' | 'timezone'>;
  resolved: ResolvedTargets;
  /** The deepest area holding every target; null when they span provinces. */
  area: { id: string } | null;
}

interface Created {
  broadcast: Broadcast;
  occurrences: PlannedOccurrence[];
  /** Devices given a delivery; none yet for an immediate play, whose deliveries follow its sending. */
  deviceIds: string[];
  overlaps: OverlapOutcome;
}

/** Broadcasts: validation and creation (with their occurrences and deliveries), listing, cancelling. */
@Injectable()
export class BroadcastsService {
  private readonly logger = new Logger(BroadcastsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(Broadcast) private readonly broadcasts: Repository<Broadcast>,
    @Inject(BulletinsService) private readonly bulletins: BulletinsService,
    @Inject(BroadcastTargets) private readonly targets: BroadcastTargets,
    @Inject(OccurrencePlanner) private readonly planner: OccurrencePlanner,
    @Inject(HorizonKeeper) private readonly horizon: HorizonKeeper,
    @Inject(SchedulePublisher) private readonly schedules: SchedulePublisher,
    @Inject(ImmediateStart) private readonly immediate: ImmediateStart,
    @Inject(MissedPlays) private readonly missed: MissedPlays,
    @Inject(BrokerService) private readonly broker: BrokerService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async create(dto: CreateBroadcastDto, principal: Principal): Promise<CreatedBroadcastDto> {
    const now = new Date();
    const bulletin = await this.bulletins.requireBroadcastable(dto.bulletinId, principal);
    const durationMs = durationOf(dto, bulletin.media);
    const plan = await this.plan(dto, principal, now);
    const created = await this.db.transaction((em) => this.insert(em, dto, plan, bulletin, durationMs, principal, now));
    return this.start(created, plan, bulletin, principal);
  }

  /**
   * Approves a submitted bulletin (or takes an approved one) and broadcasts it now as an
   * emergency, in one transaction: if the broadcast is refused, the approval is undone too.
   */
  async createEmergency(dto: EmergencyBroadcastDto, principal: Principal): Promise<EmergencyBroadcastResultDto> {
    const now = new Date();
    // The emergency body is a broadcast body without its schedule and priority, which are fixed.
    const asBroadcast: CreateBroadcastDto = { ...dto, schedule: { kind: 'now' }, priority: 'emergency' };
    const plan = await this.plan(asBroadcast, principal, now);
    const { bulletin, created } = await this.db.transaction(async (em) => {
      const bulletin = await this.bulletins.approveWithin(em, dto.bulletinId, principal);
      const durationMs = durationOf(asBroadcast, bulletin.media);
      return { bulletin, created: await this.insert(em, asBroadcast, plan, bulletin, durationMs, principal, now) };
    });
    const broadcast = await this.start(created, plan, bulletin, principal);
    return { bulletin: await this.bulletins.get(bulletin.id, principal), broadcast };
  }

  /** What can be checked before writing: the schedule, and the targets within the caller's area. */
  private async plan(dto: CreateBroadcastDto, principal: Principal, now: Date): Promise<BroadcastPlan> {
    const schedule = this.parseSchedule(dto, now);
    const resolved = await this.targets.resolve(dto.targets.areaCodes ?? [], dto.targets.deviceCodes ?? [], principal);
    return { schedule, resolved, area: await this.targets.owningArea(resolved) };
  }

  /**
   * The broadcast, its targets, occurrences and (unless it plays now) deliveries, inside the
   * caller's transaction. A same-priority overlap is refused here either way.
   */
  private async insert(
    em: EntityManager,
    dto: CreateBroadcastDto,
    { schedule, resolved, area }: BroadcastPlan,
    bulletin: Bulletin,
    durationMs: number,
    principal: Principal,
    now: Date,
  ): Promise<Created> {
    const broadcast = em.getRepository(Broadcast).create({
      bulletinId: bulletin.id,
      mediaId: bulletin.mediaId,
      priority: dto.priority,
      volume: dto.volume ?? null,
      scheduleKind: dto.schedule.kind,
      ...schedule,
      durationMs,
      expiresAt: dto.schedule.kind === 'now' ? new Date(now.getTime() + (dto.expiresInS ?? DEFAULT_EXPIRES_IN_S) * 1000) : null,
      state: 'active',
      targetAreaCodes: resolved.areas.map((a) => a.code),
      targetDeviceCodes: resolved.devices.map((d) => d.code),
      areaId: area?.id ?? null,
      createdById: principal.userId,
    });
    await em.getRepository(Broadcast).insert(broadcast);
    await this.targets.save(em, broadcast.id, resolved);
    if (dto.schedule.kind === 'now') {
      const occurrences = await this.planner.planOccurrences(em, broadcast, new Date(now.getTime() + 1), randomUUID());
      await this.planner.refuseSamePriority(em, broadcast, occurrences);
      return { broadcast, occurrences, deviceIds: [], overlaps: noOverlaps() };
    }
    const planned = await this.planner.materialise(em, broadcast, this.horizon.horizonEnd(now));
    const overlaps = await this.planner.resolveOverlaps(em, broadcast, planned.occurrences.map((o) => o.id), { refuseSamePriority: true });
    return { broadcast, occurrences: planned.occurrences, deviceIds: planned.deviceIds, overlaps };
  }

  /** After commit: a `now` broadcast is sent at once, a scheduled one reaches devices in their schedules. */
  private async start(created: Created, { resolved }: BroadcastPlan, bulletin: BulletinWithMedia, principal: Principal): Promise<CreatedBroadcastDto> {
    const { broadcast, occurrences } = created;
    let { deviceIds, overlaps } = created;
    broadcast.media = bulletin.media;
    if (broadcast.scheduleKind === 'now') {
      ({ deviceIds, overlaps } = await this.immediate.start(broadcast, occurrences[0], resolved));
      await this.missed.watch(occurrences, broadcast.expiresAt);
      await this.schedules.markDirty(overlaps.deviceIds);
    } else {
      await this.missed.watch(occurrences);
      await this.schedules.markDirty([...deviceIds, ...overlaps.deviceIds]);
    }
    this.logger.log(
      `broadcast ${broadcast.id} (${broadcast.priority}, ${broadcast.scheduleKind}) of bulletin ${bulletin.id} by ${principal.username}: ` +
        `${occurrences.length} occurrence(s) planned, ${deviceIds.length} device(s)`,
    );
    return {
      ...(await this.get(broadcast.id, principal)),
      preempted: { others: overlaps.preemptedOthers, own: overlaps.preemptedOwn },
    };
  }

  async list(query: ListBroadcastsQueryDto, principal: Principal): Promise<Page<BroadcastDto>> {
    const qb = this.broadcasts
      .createQueryBuilder('b')
      .leftJoinAndSelect('b.area', 'a')
      .orderBy('b.createdAt', 'DESC')
      .skip(query.skip)
      .take(query.pageSize);
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    if (query.state) qb.andWhere('b.state = :state', { state: query.state });
    if (query.priority) qb.andWhere('b.priority = :priority', { priority: query.priority });
    if (query.kind) qb.andWhere('b.scheduleKind = :kind', { kind: query.kind });
    if (query.bulletinId) qb.andWhere('b.bulletinId = :bulletinId', { bulletinId: query.bulletinId });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toBroadcastDto), total, query);
  }

  /** The broadcast with its delivery progress: the latest 50 occurrences that began and the next 50. */
  async get(id: string, principal: Principal): Promise<BroadcastDetailDto> {
    const broadcast = await this.findOrFail(id, principal);
    const occurrences = await this.db.query<{ id: string; start_at: Date; end_at: Date; cancelled_at: Date | null; counts: Record<string, number> | null }[]>(
      `WITH picked AS (
         (SELECT * FROM occurrences WHERE broadcast_id = $1 AND start_at <= now() ORDER BY start_at DESC LIMIT 50)
         UNION ALL
         (SELECT * FROM occurrences WHERE broadcast_id = $1 AND start_at > now() ORDER BY start_at LIMIT 50))
       SELECT p.id, p.start_at, p.end_at, p.cancelled_at,
              (SELECT jsonb_object_agg(status, n) FROM (SELECT status, count(*)::int AS n FROM deliveries WHERE occurrence_id = p.id GROUP BY status) c) AS counts
       FROM picked p ORDER BY p.start_at`,
      [id],
    );
    return {
      ...toBroadcastDto(broadcast),
      targetDeviceCount: await this.targets.countDevices(this.db, id),
      occurrences: occurrences.map(
        (o): OccurrenceProgressDto => ({
          id: o.id,
          startAt: new Date(o.start_at).toISOString(),
          endAt: new Date(o.end_at).toISOString(),
          cancelledAt: o.cancelled_at ? new Date(o.cancelled_at).toISOString() : null,
          counts: o.counts ?? {},
        }),
      ),
    };
  }

  /**
   * Cancels every play that has not ended: unplayed deliveries become `cancelled`, device
   * schedules are republished without them, and devices playing one now are told to stop.
   */
  async cancel(id: string, principal: Principal): Promise<BroadcastDetailDto> {
    await this.findOrFail(id, principal);
    const outcome = await this.db.transaction(async (em) => {
      // A play just sent may not have its deliveries yet; they would be written `pending` after this.
      await em.query(awaitDeliveriesSql(`o.broadcast_id = $1 AND o.cancelled_at IS NULL`), [id]);
      const updated = await updateReturning<{ id: string }>(
        em,
        `UPDATE broadcasts SET state = 'cancelled', cancelled_at = now(), cancelled_by_id = $2, updated_at = now()
         WHERE id = $1 AND state = 'active' RETURNING id`,
        [id, principal.userId],
      );
      if (!updated.length) {
        const existing = await this.findOrFail(id, principal);
        throw new ConflictException({ error: 'invalid-transition', message: `broadcast ${id} is ${existing.state}; only an active broadcast can be cancelled` });
      }
      const occurrences = await updateReturning<{ id: string }>(
        em,
        `UPDATE occurrences SET cancelled_at = now() WHERE broadcast_id = $1 AND end_at > now() AND cancelled_at IS NULL RETURNING id`,
        [id],
      );
      const ids = occurrences.map((o) => o.id);
      const cancelled = await updateReturning<{ device_id: string }>(
        em,
        `UPDATE deliveries SET status = 'cancelled', ended_at = now(), reason = $2
         WHERE occurrence_id = ANY($1) AND status IN ('pending', 'delivered') RETURNING device_id`,
        [ids, `broadcast cancelled by ${principal.username}`],
      );
      const playing = await em.query<{ code: string; occurrence_id: string; device_id: string }[]>(
        `SELECT d.code, dl.occurrence_id, dl.device_id FROM deliveries dl JOIN devices d ON d.id = dl.device_id
         WHERE dl.occurrence_id = ANY($1) AND dl.status = 'started'`,
        [ids],
      );
      return { deviceIds: [...cancelled.map((c) => c.device_id), ...playing.map((p) => p.device_id)], playing };
    });
    await this.schedules.markDirty(outcome.deviceIds);
    const now = new Date();
    await Promise.all(
      outcome.playing.map(({ code, occurrence_id }) => {
        const stop: StopCommand = {
          id: randomUUID(),
          type: 'stop',
          issuedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + STOP_TTL_MS).toISOString(),
          occurrenceId: occurrence_id,
        };
        return this.broker.publish(deviceTopic(code, 'commands'), stop, { qos: 1 });
      }),
    );
    this.logger.log(`broadcast ${id} cancelled by ${principal.username}; ${outcome.playing.length} device(s) told to stop`);
    return this.get(id, principal);
  }

  /** A broadcast outside the caller's subtree is answered exactly like a missing one. */
  async findOrFail(id: string, principal: Principal): Promise<Broadcast> {
    const broadcast = await this.broadcasts.findOne({ where: { id }, relations: { area: true } });
    if (!broadcast || !inScope(principal, broadcast.area?.path)) throw new NotFoundException({ error: 'not-found', message: `broadcast ${id} not found` });
    return broadcast;
  }

  private parseSchedule(dto: CreateBroadcastDto, now: Date): Pick<Broadcast, 'startAt' | 'rrule' | 'until' | 'timezone'> {
    const { schedule } = dto;
    const timezone = schedule.timezone ?? this.config.DEVICE_TIMEZONE;
    if (!isTimeZone(timezone)) throw invalid(`timezone ${JSON.stringify(timezone)} is not an IANA time zone`);
    if (schedule.kind === 'now') return { startAt: now, rrule: null, until: null, timezone };
    const startAt = new Date(schedule.startAt!);
    if (startAt <= now) throw invalid(`startAt ${schedule.startAt} is in the past`);
    if (schedule.kind === 'once') return { startAt, rrule: null, until: null, timezone };
    const until = schedule.until ? new Date(schedule.until) : null;
    if (until && until <= startAt) throw invalid('until must be after startAt');
    const rrule = schedule.rrule!.trim().replace(/^RRULE:/i, '');
    const problem = recurrenceProblem({ rrule, startAt, until, timezone });
    if (problem) throw invalid(problem);
    return { startAt, rrule, until, timezone };
  }
}

/** How long one play lasts: the file's length, or what the caller says for a live relay. */
function durationOf(dto: Pick<CreateBroadcastDto, 'durationS'>, media: Media): number {
  const durationMs = media.kind === 'file' ? media.durationMs! : (dto.durationS ?? 0) * 1000;
  if (!durationMs) throw invalid('durationS is required for a live relay, whose length Loa cannot know');
  return durationMs;
}

function invalid(message: string): BadRequestException {
  return new BadRequestException({ error: 'validation', message });
}
