import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Which devices and when: an area subtree (a LIKE pattern on `areas.path`, null for the country) over [from, to). */
export interface ReportScope {
  pathPattern: string | null;
  from: Date;
  to: Date;
}

export interface DeviceUptimeRow {
  code: string;
  name: string;
  communeCode: string;
  communeName: string;
  onlineSeconds: number;
  observedSeconds: number;
}

export interface BroadcastFiguresRow {
  /** True for the row of the whole area. */
  total: boolean;
  communeCode: string | null;
  communeName: string | null;
  devices: number;
  broadcasts: number;
  occurrences: number;
  playedMs: number;
  deliveries: number;
  delivered: number;
  missed: number;
}

/**
 * The commune a device is counted in: paths read `/province/district/commune/village/`, so
 * a device in a commune or a village belongs to the path's fourth segment; a device placed
 * higher up is counted in its own area.
 */
const COMMUNE_OF_DEVICE = `CASE WHEN a.level IN ('commune', 'village') THEN split_part(a.path, '/', 4) ELSE a.code END`;

/** The period ends at now at the latest: nothing has happened after it. */
const BOUNDS = `bounds AS (SELECT $2::timestamptz AS t0, least($3::timestamptz, now()) AS t1)`;

/** Set-based SQL of the reports: one statement per report, whatever the number of devices. */
@Injectable()
export class ReportQueries {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Seconds online per device. A device is observed from max(from, its creation) to
   * min(to, now, its decommissioning); its state at the start is the last change at or
   * before it (`unknown` without one), and each state lasts until the next change.
   */
  async uptime(scope: ReportScope): Promise<DeviceUptimeRow[]> {
    return this.db.query(
      `WITH ${BOUNDS},
       observed AS (
         SELECT d.id, d.code, d.name, ${COMMUNE_OF_DEVICE} AS commune_code,
                greatest(d.created_at, b.t0) AS obs_from,
                least(b.t1, coalesce(d.decommissioned_at, b.t1)) AS obs_to
           FROM devices d JOIN areas a ON a.id = d.area_id CROSS JOIN bounds b
          WHERE ($1::text IS NULL OR a.path LIKE $1)
       ),
       spans AS (
         SELECT o.id, s.state, s.at,
                lead(s.at, 1, o.obs_to) OVER (PARTITION BY o.id ORDER BY s.at, s.seq) AS until
           FROM observed o
           CROSS JOIN LATERAL (
             SELECT o.obs_from AS at, 0::bigint AS seq,
                    coalesce((SELECT c.to_state FROM device_state_changes c
                               WHERE c.device_id = o.id AND c.at <= o.obs_from
                               ORDER BY c.at DESC, c.seq DESC LIMIT 1), 'unknown') AS state
             UNION ALL
             SELECT c.at, c.seq, c.to_state FROM device_state_changes c
              WHERE c.device_id = o.id AND c.at > o.obs_from AND c.at < o.obs_to
           ) s
          WHERE o.obs_to > o.obs_from
       )
       SELECT o.code, o.name, o.commune_code AS "communeCode", coalesce(ca.name, o.commune_code) AS "communeName",
              coalesce(sum(extract(epoch FROM sp.until - sp.at)) FILTER (WHERE sp.state = 'online'), 0)::float8 AS "onlineSeconds",
              extract(epoch FROM o.obs_to - o.obs_from)::float8 AS "observedSeconds"
         FROM observed o
         JOIN spans sp ON sp.id = o.id
         LEFT JOIN areas ca ON ca.code = o.commune_code
        GROUP BY o.id, o.code, o.name, o.commune_code, ca.name, o.obs_from, o.obs_to
        ORDER BY o.commune_code, o.code`,
      [scope.pathPattern, scope.from, scope.to],
    );
  }

  /**
   * Per commune and for the whole area, in one pass: devices in the registry during the
   * period, and the deliveries of occurrences starting in it (cancelled and pre-empted ones
   * left out: Loa decided they would not play). A finished play lasts ended − started as
   * the device reported, capped at the broadcast's duration; the duration itself when the
   * device reported no usable start.
   */
  async broadcastFigures(scope: ReportScope): Promise<BroadcastFiguresRow[]> {
    return this.db.query(
      `WITH ${BOUNDS},
       placed AS (
         SELECT d.id, d.created_at, d.decommissioned_at, ${COMMUNE_OF_DEVICE} AS commune_code
           FROM devices d JOIN areas a ON a.id = d.area_id
          WHERE ($1::text IS NULL OR a.path LIKE $1)
       ),
       -- Folded per (commune, occurrence) first: the grand total's distinct counts then sort
       -- thousands of rows, not one per delivery.
       plays AS (
         SELECT p.commune_code, o.broadcast_id, o.id AS occurrence_id,
                count(*) AS deliveries,
                count(*) FILTER (WHERE dl.status = 'finished') AS delivered,
                count(*) FILTER (WHERE dl.status = 'missed') AS missed,
                sum(CASE WHEN dl.status = 'finished' THEN
                      CASE WHEN dl.started_at IS NOT NULL AND dl.ended_at > dl.started_at
                           THEN least(extract(epoch FROM dl.ended_at - dl.started_at)::float8 * 1000, br.duration_ms)
                           ELSE br.duration_ms END
                    END) AS played_ms
           FROM occurrences o
           CROSS JOIN bounds b
           JOIN broadcasts br ON br.id = o.broadcast_id
           JOIN deliveries dl ON dl.occurrence_id = o.id
           JOIN placed p ON p.id = dl.device_id
          WHERE o.start_at >= b.t0 AND o.start_at < b.t1 AND dl.status NOT IN ('cancelled', 'preempted')
          GROUP BY p.commune_code, o.id
       ),
       facts AS (
         SELECT p.commune_code, count(*) AS devices, NULL::uuid AS broadcast_id, NULL::uuid AS occurrence_id,
                0 AS deliveries, 0 AS delivered, 0 AS missed, NULL::float8 AS played_ms
           FROM placed p CROSS JOIN bounds b
          WHERE p.created_at < b.t1 AND (p.decommissioned_at IS NULL OR p.decommissioned_at > b.t0)
          GROUP BY p.commune_code
         UNION ALL
         SELECT commune_code, 0, broadcast_id, occurrence_id, deliveries, delivered, missed, played_ms FROM plays
       ),
       figures AS (
         SELECT grouping(commune_code) = 1 AS total, commune_code,
                sum(devices)::int AS devices,
                count(DISTINCT broadcast_id)::int AS broadcasts,
                count(DISTINCT occurrence_id)::int AS occurrences,
                coalesce(sum(played_ms), 0)::float8 AS played_ms,
                sum(deliveries)::int AS deliveries,
                sum(delivered)::int AS delivered,
                sum(missed)::int AS missed
           FROM facts
          GROUP BY GROUPING SETS ((commune_code), ())
       )
       SELECT f.total, CASE WHEN f.total THEN NULL ELSE f.commune_code END AS "communeCode",
              CASE WHEN f.total THEN NULL ELSE coalesce(ca.name, f.commune_code) END AS "communeName",
              coalesce(f.devices, 0) AS devices, f.broadcasts, f.occurrences, f.played_ms AS "playedMs",
              coalesce(f.deliveries, 0) AS deliveries, coalesce(f.delivered, 0) AS delivered, coalesce(f.missed, 0) AS missed
         FROM figures f LEFT JOIN areas ca ON NOT f.total AND ca.code = f.commune_code
        ORDER BY f.total, f.commune_code`,
      [scope.pathPattern, scope.from, scope.to],
    );
  }
}
