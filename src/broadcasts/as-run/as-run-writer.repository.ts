import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { updateReturning } from '../../common/postgres.js';
import { awaitDeliveriesSql } from '../deliveries-lock.js';
import type { AckReport, AsRunBatchJob, PlaybackReport, ScheduleVersionReport } from './as-run-batch.js';

/** A playback event that matched no delivery of the device that sent it. */
export interface RejectedPlayback {
  code: string;
  id: string;
  occurrenceId: string;
}

/** Deliveries of one occurrence in one area that a batch changed, with their status after it. */
export interface DeliveryProgress {
  occurrenceId: string;
  broadcastId: string;
  areaPath: string;
  deliveries: { deviceCode: string; status: string }[];
}

export interface AppliedBatch {
  rejected: RejectedPlayback[];
  progress: DeliveryProgress[];
}

/*
 * Ordering rules. Devices report facts; Loa infers the rest (`missed` when nothing was
 * heard in time, `preempted`, `cancelled`). A device's fact wins over an inference: an
 * ack failure or a playback event may replace pending, delivered, missed, preempted and
 * cancelled. Once a device reports an end (finished, failed, interrupted) the delivery is
 * final: nothing changes its status again, and a `started` that arrives after it (events
 * reorder across a reconnect) only fills in `started_at`. Among several ends, the first
 * applied wins.
 */
const DEVICE_FINAL = `('finished', 'failed', 'interrupted')`;
const OVERRIDABLE = `('pending', 'delivered', 'missed', 'preempted', 'cancelled')`;

/**
 * Writes a batch of device reports into `deliveries` (and `playback_events`) with one
 * set-based statement per kind of report, in one transaction: a retried job re-applies
 * all of it or none, which matters because events are applied only when newly inserted.
 */
@Injectable()
export class AsRunWriter {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Applies the batch; returns the playback events refused because they match no delivery
   * of their device, and the deliveries it changed, grouped for the live stream.
   */
  async apply(batch: AsRunBatchJob): Promise<AppliedBatch> {
    return this.db.transaction(async (tx) => {
      await this.awaitImmediateDeliveries(tx, batch);
      const changed = new Set<string>();
      // Events first, so an ack failure in the same batch sees that the device already reported playback.
      let rejected: RejectedPlayback[] = [];
      if (batch.events.length) {
        const applied = await this.applyEvents(tx, batch.events);
        rejected = applied.rejected;
        for (const id of applied.changed) changed.add(id);
      }
      if (batch.acks.length) for (const id of await this.applyAcks(tx, batch.acks)) changed.add(id);
      if (batch.scheduleVersions.length) for (const id of await this.applyScheduleVersions(tx, batch.scheduleVersions)) changed.add(id);
      return { rejected, progress: changed.size ? await this.progressOf(tx, [...changed]) : [] };
    });
  }

  /**
   * Waits for the deliveries of the immediate plays this batch reports on, if they are
   * still being written (deliveries-lock.ts). Taken before anything is written, so the
   * batch holds no row lock while it waits.
   */
  private async awaitImmediateDeliveries(tx: EntityManager, batch: AsRunBatchJob): Promise<void> {
    if (!batch.acks.length && !batch.events.length) return;
    await tx.query(
      awaitDeliveriesSql(`o.command_id = ANY($1::uuid[]) OR o.id = ANY($2::uuid[])`),
      [[...new Set(batch.acks.map((a) => a.commandId))], [...new Set(batch.events.map((e) => e.occurrenceId))]],
    );
  }

  /** One group per occurrence and device area, so an emergency's 10,000 acks make one live event per commune. */
  private async progressOf(tx: EntityManager, deliveryIds: string[]): Promise<DeliveryProgress[]> {
    return tx.query(
      `SELECT dl.occurrence_id AS "occurrenceId", o.broadcast_id AS "broadcastId", a.path AS "areaPath",
              json_agg(json_build_object('deviceCode', d.code, 'status', dl.status) ORDER BY d.code) AS deliveries
         FROM deliveries dl
         JOIN occurrences o ON o.id = dl.occurrence_id
         JOIN devices d ON d.id = dl.device_id
         JOIN areas a ON a.id = d.area_id
        WHERE dl.id = ANY($1::uuid[])
        GROUP BY dl.occurrence_id, o.broadcast_id, a.path`,
      [deliveryIds],
    );
  }

  private async applyEvents(tx: EntityManager, events: PlaybackReport[]): Promise<{ rejected: RejectedPlayback[]; changed: string[] }> {
    const [row]: { rejected: RejectedPlayback[]; changed: string[] }[] = await tx.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::timestamptz[])
           WITH ORDINALITY AS e(id, code, occurrence_id, type, at, reason, received_at, ord)
       ),
       matched AS (
         SELECT DISTINCT ON (e.id) e.*, d.id AS device_id, dl.id AS delivery_id
           FROM input e
           JOIN devices d ON d.code = e.code
           JOIN deliveries dl ON dl.occurrence_id = e.occurrence_id AND dl.device_id = d.id
          ORDER BY e.id, e.ord
       ),
       inserted AS (
         INSERT INTO playback_events (id, device_id, occurrence_id, type, at, reason, received_at)
         SELECT id, device_id, occurrence_id, type, at, reason, received_at FROM matched
         ON CONFLICT (id) DO NOTHING
         RETURNING id
       ),
       fresh AS (
         SELECT m.delivery_id,
                min(m.at) FILTER (WHERE m.type = 'started') AS started_at,
                (array_agg(m.type ORDER BY m.ord) FILTER (WHERE m.type IN ${DEVICE_FINAL}))[1] AS final_type,
                (array_agg(m.at ORDER BY m.ord) FILTER (WHERE m.type IN ${DEVICE_FINAL}))[1] AS final_at,
                (array_agg(m.reason ORDER BY m.ord) FILTER (WHERE m.type IN ${DEVICE_FINAL}))[1] AS final_reason,
                (array_agg(m.at ORDER BY m.ord) FILTER (WHERE m.type = 'skipped'))[1] AS skipped_at,
                (array_agg(m.reason ORDER BY m.ord) FILTER (WHERE m.type = 'skipped'))[1] AS skipped_reason,
                min(m.received_at) AS received_at
           FROM matched m JOIN inserted i ON i.id = m.id
          GROUP BY m.delivery_id
       ),
       applied AS (
         UPDATE deliveries dl SET
           status = CASE
             WHEN dl.status IN ${DEVICE_FINAL} THEN dl.status
             WHEN f.final_type IS NOT NULL THEN f.final_type
             WHEN f.started_at IS NOT NULL OR dl.status = 'started' THEN 'started'
             ELSE 'missed' END,
           ended_at = CASE
             WHEN dl.status IN ${DEVICE_FINAL} THEN dl.ended_at
             WHEN f.final_type IS NOT NULL THEN f.final_at
             WHEN f.started_at IS NOT NULL OR dl.status = 'started' THEN NULL
             ELSE f.skipped_at END,
           reason = CASE
             WHEN dl.status IN ${DEVICE_FINAL} THEN dl.reason
             WHEN f.final_type IS NOT NULL THEN f.final_reason
             WHEN f.started_at IS NOT NULL OR dl.status = 'started' THEN NULL
             ELSE 'skipped by device: ' || COALESCE(f.skipped_reason, 'no reason given') END,
           started_at = LEAST(dl.started_at, f.started_at),
           delivered_at = COALESCE(dl.delivered_at, f.received_at)
           FROM fresh f
          WHERE dl.id = f.delivery_id
          RETURNING dl.id
       )
       SELECT COALESCE((SELECT json_agg(json_build_object('code', e.code, 'id', e.id, 'occurrenceId', e.occurrence_id))
                          FROM input e
                         WHERE NOT EXISTS (
                           SELECT 1 FROM devices d JOIN deliveries dl ON dl.device_id = d.id
                            WHERE d.code = e.code AND dl.occurrence_id = e.occurrence_id)), '[]') AS rejected,
              COALESCE((SELECT json_agg(id) FROM applied), '[]') AS changed`,
      [
        events.map((e) => e.id),
        events.map((e) => e.code),
        events.map((e) => e.occurrenceId),
        events.map((e) => e.type),
        events.map((e) => e.at),
        events.map((e) => e.reason),
        events.map((e) => e.receivedAt),
      ],
    );
    return row;
  }

  /**
   * An ack counts only for a `play` command, found by its id on the occurrence; acks of
   * single-device API commands fall out of the join. `ok` confirms a pending delivery;
   * a refusal or failure ends it as `failed`, unless the device has already reported
   * playback of it.
   */
  private async applyAcks(tx: EntityManager, acks: AckReport[]): Promise<string[]> {
    const rows = await updateReturning<{ id: string }>(
      tx,
      `UPDATE deliveries dl SET
         status = CASE WHEN a.status = 'ok' THEN 'delivered' ELSE 'failed' END,
         delivered_at = COALESCE(dl.delivered_at, a.at),
         ended_at = CASE WHEN a.status = 'ok' THEN dl.ended_at ELSE a.at END,
         reason = CASE WHEN a.status = 'ok' THEN dl.reason ELSE 'ack ' || a.status || COALESCE(': ' || a.error, '') END
         FROM (SELECT DISTINCT ON (code, command_id) *
                 FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
                        WITH ORDINALITY AS u(code, command_id, status, error, at, ord)
                ORDER BY code, command_id, ord) a
         JOIN occurrences o ON o.command_id = a.command_id
         JOIN devices d ON d.code = a.code
        WHERE dl.occurrence_id = o.id AND dl.device_id = d.id
          AND CASE WHEN a.status = 'ok' THEN dl.status = 'pending'
                   ELSE dl.status IN ${OVERRIDABLE}
                        AND NOT EXISTS (SELECT 1 FROM playback_events pe
                                         WHERE pe.occurrence_id = dl.occurrence_id AND pe.device_id = dl.device_id) END
       RETURNING dl.id`,
      [
        acks.map((a) => a.code),
        acks.map((a) => a.commandId),
        acks.map((a) => a.status),
        acks.map((a) => a.error),
        acks.map((a) => a.at),
      ],
    );
    return rows.map((r) => r.id);
  }

  /** A device holding Schedule version v has every delivery first carried by a version ≤ v. */
  private async applyScheduleVersions(tx: EntityManager, versions: ScheduleVersionReport[]): Promise<string[]> {
    const rows = await updateReturning<{ id: string }>(
      tx,
      `UPDATE deliveries dl SET status = 'delivered', delivered_at = v.at
         FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS v(code, version, at)
         JOIN devices d ON d.code = v.code
        WHERE dl.device_id = d.id AND dl.status = 'pending' AND dl.schedule_version <= v.version
        RETURNING dl.id`,
      [versions.map((v) => v.code), versions.map((v) => v.version), versions.map((v) => v.at)],
    );
    return rows.map((r) => r.id);
  }
}
