import { ConflictException, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { updateReturning } from '../common/postgres.js';
import { PRIORITY_RANK, type Priority } from '../broker/payloads.js';
import type { Broadcast } from './broadcast.entity.js';
import { TARGET_DEVICES_SQL } from './broadcast-targets.service.js';
import { awaitDeliveriesSql } from './deliveries-lock.js';
import { occurrencesBetween } from './recurrence.js';

export interface PlannedOccurrence {
  id: string;
  startAt: Date;
  endAt: Date;
  commandId: string | null;
}

export interface Clash {
  broadcastId: string;
  priority: Priority;
  deviceCount: number;
  /** Start times of the clashing plays of that broadcast (at most 10). */
  startAts: string[];
}

export interface OverlapOutcome {
  /** Devices whose schedule changed because one of their plays was pre-empted. */
  deviceIds: string[];
  preemptedOthers: number;
  preemptedOwn: number;
  /** Same-priority clashes that were kept (horizon extension only; creation refuses them). */
  kept: Clash[];
}

/** The outcome when nothing overlapped; a new object each time, since resolveOverlaps fills its own. */
export function noOverlaps(): OverlapOutcome {
  return { deviceIds: [], preemptedOthers: 0, preemptedOwn: 0, kept: [] };
}

interface ClashRow extends OtherPlay {
  own_delivery: string;
}

/** A play of another broadcast on a device that a new play would overlap. */
interface OtherPlay {
  other_delivery: string;
  other_status: string;
  other_broadcast: string;
  other_priority: Priority;
  other_start: Date;
  device_id: string;
}

/** Turns a broadcast's schedule into occurrences, and each occurrence into one pending delivery per target device. */
@Injectable()
export class OccurrencePlanner {
  private readonly logger = new Logger(OccurrencePlanner.name);

  /** The broadcast's play times in [from, to). */
  playTimes(broadcast: Broadcast, from: Date, to: Date): Date[] {
    if (broadcast.scheduleKind !== 'recurring') {
      return broadcast.startAt >= from && broadcast.startAt < to ? [broadcast.startAt] : [];
    }
    return occurrencesBetween(
      { rrule: broadcast.rrule!, startAt: broadcast.startAt, until: broadcast.until, timezone: broadcast.timezone },
      from,
      to,
    );
  }

  /**
   * Materialises occurrences up to `until` (idempotent: a start time already planned is
   * skipped) and creates their pending deliveries. Returns the new occurrences and the
   * devices that got a delivery.
   */
  async materialise(
    em: EntityManager,
    broadcast: Broadcast,
    until: Date,
  ): Promise<{ occurrences: PlannedOccurrence[]; deviceIds: string[] }> {
    const occurrences = await this.planOccurrences(em, broadcast, until);
    if (!occurrences.length) return { occurrences, deviceIds: [] };
    const deviceIds = await this.addDeliveries(em, broadcast.id, occurrences.map((o) => o.id));
    return { occurrences, deviceIds };
  }

  /** The occurrences of `materialise` without their deliveries: an immediate play writes those after it is sent. */
  async planOccurrences(em: EntityManager, broadcast: Broadcast, until: Date, commandId: string | null = null): Promise<PlannedOccurrence[]> {
    const from = broadcast.materialisedUntil ?? broadcast.startAt;
    const times = this.playTimes(broadcast, from, until);
    // GREATEST ignores NULL, so the first planning sets it too.
    await em.query(`UPDATE broadcasts SET materialised_until = GREATEST(materialised_until, $2) WHERE id = $1`, [broadcast.id, until]);
    broadcast.materialisedUntil = until;
    if (!times.length) return [];
    const rows = await em.query<{ id: string; start_at: Date; end_at: Date; command_id: string | null }[]>(
      `INSERT INTO occurrences (broadcast_id, start_at, end_at, command_id)
       SELECT $1::uuid, t, t + $3 * interval '1 millisecond', $4 FROM unnest($2::timestamptz[]) t
       ON CONFLICT (broadcast_id, start_at) DO NOTHING
       RETURNING id, start_at, end_at, command_id`,
      [broadcast.id, times, broadcast.durationMs, commandId],
    );
    return rows.map((r) => ({ id: r.id, startAt: new Date(r.start_at), endAt: new Date(r.end_at), commandId: r.command_id }));
  }

  /**
   * The same-priority refusal of `resolveOverlaps`, for occurrences that have no deliveries
   * yet: it looks at the broadcast's target devices instead, and writes nothing. Active
   * broadcasts of that priority with an overlapping play are found first, so the usual
   * answer (none) costs no per-device work.
   */
  async refuseSamePriority(em: EntityManager, broadcast: Broadcast, occurrences: PlannedOccurrence[]): Promise<void> {
    if (!occurrences.length) return;
    const starts = occurrences.map((o) => o.startAt);
    const ends = occurrences.map((o) => o.endAt);
    const candidates = await em.query<{ id: string }[]>(
      `SELECT DISTINCT o2.id FROM broadcasts b2
       JOIN occurrences o2 ON o2.broadcast_id = b2.id AND o2.cancelled_at IS NULL
       JOIN unnest($3::timestamptz[], $4::timestamptz[]) AS own(start_at, end_at)
         ON o2.start_at < own.end_at AND o2.end_at > own.start_at
       WHERE b2.state = 'active' AND b2.priority = $2 AND b2.id <> $1`,
      [broadcast.id, broadcast.priority, starts, ends],
    );
    if (!candidates.length) return;
    await em.query(awaitDeliveriesSql(`o.id = ANY($1)`), [candidates.map((c) => c.id)]);
    const rows = await em.query<OtherPlay[]>(
      `SELECT od.id AS other_delivery, od.status AS other_status,
              o2.broadcast_id AS other_broadcast, b2.priority AS other_priority, o2.start_at AS other_start,
              od.device_id
       FROM deliveries od
       JOIN occurrences o2 ON o2.id = od.occurrence_id
       JOIN broadcasts b2 ON b2.id = o2.broadcast_id
       WHERE od.occurrence_id = ANY($2) AND od.status IN ('pending', 'delivered', 'started')
         AND od.device_id IN (${TARGET_DEVICES_SQL('$1')})`,
      [broadcast.id, candidates.map((c) => c.id)],
    );
    if (rows.length) throw overlapConflict(rows);
  }

  /**
   * Gives every current target device a delivery for the given occurrences (those it has
   * are kept). Also how a device added to a targeted area later joins upcoming plays.
   */
  async addDeliveries(em: EntityManager, broadcastId: string, occurrenceIds: string[], onlyDeviceId?: string): Promise<string[]> {
    const rows = await em.query<{ device_id: string }[]>(
      `WITH added AS (
         INSERT INTO deliveries (occurrence_id, device_id)
         SELECT o, td.id FROM unnest($2::uuid[]) o CROSS JOIN (${TARGET_DEVICES_SQL('$1')}) td
         WHERE $3::uuid IS NULL OR td.id = $3
         ON CONFLICT (occurrence_id, device_id) DO NOTHING
         RETURNING device_id)
       SELECT DISTINCT device_id FROM added`,
      [broadcastId, occurrenceIds, onlyDeviceId ?? null],
    );
    return rows.map((r) => r.device_id);
  }

  /**
   * Where the given occurrences overlap another active broadcast's plays on the same
   * device, the higher priority wins and the lower is recorded `preempted`. A same-priority
   * overlap is refused with 409 listing the clashes when `refuseSamePriority` (creation);
   * when the horizon rolls on, both are kept and logged, since nobody is there to ask.
   * Overlapping immediate plays whose deliveries are still being written are waited for,
   * unless the caller is such a writer (`writingImmediate`): two of them waiting for each
   * other would deadlock.
   */
  async resolveOverlaps(
    em: EntityManager,
    broadcast: Broadcast,
    occurrenceIds: string[],
    { refuseSamePriority, writingImmediate = false }: { refuseSamePriority: boolean; writingImmediate?: boolean },
  ): Promise<OverlapOutcome> {
    const outcome = noOverlaps();
    if (!occurrenceIds.length) return outcome;
    if (!writingImmediate) {
      await em.query(
        awaitDeliveriesSql(
          `o.cancelled_at IS NULL AND EXISTS (SELECT 1 FROM occurrences own WHERE own.id = ANY($1)
             AND own.broadcast_id <> o.broadcast_id AND o.start_at < own.end_at AND o.end_at > own.start_at)`,
        ),
        [occurrenceIds],
      );
    }
    const rows = await em.query<ClashRow[]>(
      `SELECT nd.id AS own_delivery, od.id AS other_delivery, od.status AS other_status,
              o2.broadcast_id AS other_broadcast, b2.priority AS other_priority, o2.start_at AS other_start,
              nd.device_id
       FROM occurrences o
       JOIN deliveries nd ON nd.occurrence_id = o.id AND nd.status IN ('pending', 'delivered')
       JOIN deliveries od ON od.device_id = nd.device_id AND od.status IN ('pending', 'delivered', 'started')
       JOIN occurrences o2 ON o2.id = od.occurrence_id AND o2.broadcast_id <> o.broadcast_id
            AND o2.cancelled_at IS NULL AND o2.start_at < o.end_at AND o2.end_at > o.start_at
       JOIN broadcasts b2 ON b2.id = o2.broadcast_id AND b2.state = 'active'
       WHERE o.id = ANY($1)`,
      [occurrenceIds],
    );
    if (!rows.length) return outcome;
    const own = PRIORITY_RANK[broadcast.priority];
    const same = rows.filter((r) => PRIORITY_RANK[r.other_priority] === own);
    if (same.length) {
      if (refuseSamePriority) throw overlapConflict(same);
      const clashes = summarise(same);
      outcome.kept = clashes;
      this.logger.warn(`broadcast ${broadcast.id}: same-priority overlap with ${clashes.map((c) => c.broadcastId).join(', ')} kept`);
    }
    const lowerOthers = rows.filter((r) => PRIORITY_RANK[r.other_priority] < own && r.other_status !== 'started');
    const higherOthers = rows.filter((r) => PRIORITY_RANK[r.other_priority] > own);
    outcome.preemptedOthers = await this.preempt(em, lowerOthers.map((r) => r.other_delivery), `preempted by ${broadcast.priority} broadcast ${broadcast.id}`);
    for (const [otherId, group] of groupBy(higherOthers, (r) => r.other_broadcast)) {
      outcome.preemptedOwn += await this.preempt(
        em,
        group.map((r) => r.own_delivery),
        `preempted by ${group[0].other_priority} broadcast ${otherId}`,
      );
    }
    outcome.deviceIds = [...new Set([...lowerOthers, ...higherOthers].map((r) => r.device_id))];
    return outcome;
  }

  private async preempt(em: EntityManager, deliveryIds: string[], reason: string): Promise<number> {
    if (!deliveryIds.length) return 0;
    const rows = await updateReturning<{ id: string }>(
      em,
      `UPDATE deliveries SET status = 'preempted', ended_at = now(), reason = $2
       WHERE id = ANY($1) AND status IN ('pending', 'delivered') RETURNING id`,
      [[...new Set(deliveryIds)], reason],
    );
    return rows.length;
  }
}

/** 409 listing the same-priority broadcasts the new plays would overlap. */
function overlapConflict(same: OtherPlay[]): ConflictException {
  const clashes = summarise(same);
  return new ConflictException({
    error: 'overlap',
    message: `overlaps ${clashes.length} broadcast(s) of the same priority on ${new Set(same.map((r) => r.device_id)).size} device(s)`,
    clashes,
  });
}

function summarise(rows: OtherPlay[]): Clash[] {
  return [...groupBy(rows, (r) => r.other_broadcast)].map(([broadcastId, group]) => ({
    broadcastId,
    priority: group[0].other_priority,
    deviceCount: new Set(group.map((r) => r.device_id)).size,
    startAts: [...new Set(group.map((r) => new Date(r.other_start).toISOString()))].sort().slice(0, 10),
  }));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
