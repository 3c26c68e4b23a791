import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { escapeLike } from '../../common/postgres.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.js';
import type { AsRunEntryDto, OccurrenceDeliveryDto } from './dto/as-run.dto.js';

/** Which deliveries the as-run log shows: occurrences starting in [from, to), narrowed by the rest. */
export interface AsRunFilter {
  from: Date;
  to: Date;
  /** `areas.path` of the subtree the devices must be in. */
  areaPath?: string;
  /** LIKE pattern of the caller's area (scope.ts), which the devices must be in too. */
  scopePattern?: string;
  statuses?: DeliveryStatus[];
  broadcastId?: string;
  deviceCode?: string;
}

/** Rows per query while streaming the whole log: memory stays flat however long the window. */
const STREAM_PAGE_ROWS = 5000;

const ENTRY_COLUMNS = `
  o.id AS "occurrenceId", o.broadcast_id AS "broadcastId", bu.title AS "bulletinTitle", bu.category,
  b.priority, o.start_at AS "startAt", d.code AS "deviceCode", a.code AS "areaCode", dl.status,
  dl.delivered_at AS "deliveredAt", dl.started_at AS "startedAt", dl.ended_at AS "endedAt", dl.reason`;

const ENTRY_FROM = `
  FROM deliveries dl
  JOIN occurrences o ON o.id = dl.occurrence_id
  JOIN broadcasts b ON b.id = o.broadcast_id
  JOIN bulletins bu ON bu.id = b.bulletin_id
  JOIN devices d ON d.id = dl.device_id
  JOIN areas a ON a.id = d.area_id`;

/** A log row as Postgres returns it, with the keyset cursor of the streaming query. */
interface EntryRow {
  occurrenceId: string;
  deviceCode: string;
  cursorAt: string;
}

/** Reads of the as-run log: the deliveries of one occurrence, and the log across occurrences. */
@Injectable()
export class AsRunQueries {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** The occurrence's broadcast's area path (null: national), or undefined if there is no such occurrence. */
  async areaPathOfOccurrence(id: string): Promise<string | null | undefined> {
    const rows: { path: string | null }[] = await this.db.query(
      `SELECT a.path FROM occurrences o JOIN broadcasts b ON b.id = o.broadcast_id LEFT JOIN areas a ON a.id = b.area_id WHERE o.id = $1`,
      [id],
    );
    return rows.length ? rows[0].path : undefined;
  }

  async deliveriesOfOccurrence(
    occurrenceId: string,
    statuses: DeliveryStatus[] | undefined,
    page: { skip: number; take: number },
  ): Promise<{ rows: OccurrenceDeliveryDto[]; total: number }> {
    const where = `dl.occurrence_id = $1${statuses?.length ? ' AND dl.status = ANY($2)' : ''}`;
    const params: unknown[] = statuses?.length ? [occurrenceId, statuses] : [occurrenceId];
    const [rows, [{ total }]] = await Promise.all([
      this.db.query(
        `SELECT d.code AS "deviceCode", d.name AS "deviceName", a.code AS "areaCode", dl.status,
                dl.schedule_version AS "scheduleVersion", dl.created_at AS "createdAt", dl.delivered_at AS "deliveredAt",
                dl.started_at AS "startedAt", dl.ended_at AS "endedAt", dl.reason
           FROM deliveries dl JOIN devices d ON d.id = dl.device_id JOIN areas a ON a.id = d.area_id
          WHERE ${where}
          ORDER BY d.code
          OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
        [...params, page.skip, page.take],
      ),
      this.db.query(`SELECT count(*)::int AS total FROM deliveries dl WHERE ${where}`, params),
    ]);
    return { rows: (rows as object[]).map((r) => isoTimes<OccurrenceDeliveryDto>(r)), total };
  }

  /** Every status with how many of the occurrence's deliveries have it, zeros included. */
  async statusCountsOfOccurrence(occurrenceId: string): Promise<Record<DeliveryStatus, number>> {
    const rows: { status: DeliveryStatus; n: number }[] = await this.db.query(
      `SELECT status, count(*)::int AS n FROM deliveries WHERE occurrence_id = $1 GROUP BY status`,
      [occurrenceId],
    );
    const counts = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async logPage(filter: AsRunFilter, page: { skip: number; take: number }): Promise<{ rows: AsRunEntryDto[]; total: number }> {
    const { where, params } = logWhere(filter);
    const [rows, [{ total }]] = await Promise.all([
      this.db.query(
        `SELECT ${ENTRY_COLUMNS} ${ENTRY_FROM} WHERE ${where}
          ORDER BY o.start_at, o.id, d.code OFFSET $${params.length + 1} LIMIT $${params.length + 2}`,
        [...params, page.skip, page.take],
      ),
      this.db.query(`SELECT count(*)::int AS total ${ENTRY_FROM} WHERE ${where}`, params),
    ]);
    return { rows: (rows as object[]).map((r) => isoTimes<AsRunEntryDto>(r)), total };
  }

  /**
   * The whole log for the filter, in log order, fetched in keyset pages: each page starts
   * after the last (start_at, occurrence, device) seen, so no query holds a connection or
   * a transaction open while a slow client downloads.
   */
  async *streamLog(filter: AsRunFilter): AsyncGenerator<AsRunEntryDto> {
    const { where, params } = logWhere(filter);
    let after: EntryRow | null = null;
    for (;;) {
      const n = params.length;
      // start_at travels as Postgres' own text so the cursor keeps its microseconds.
      const keyset = after ? `AND o.start_at >= $${n + 1}::timestamptz AND (o.start_at, o.id, d.code) > ($${n + 1}::timestamptz, $${n + 2}::uuid, $${n + 3})` : '';
      const rows: EntryRow[] = await this.db.query(
        `SELECT ${ENTRY_COLUMNS}, o.start_at::text AS "cursorAt" ${ENTRY_FROM}
          WHERE ${where} ${keyset}
          ORDER BY o.start_at, o.id, d.code LIMIT ${STREAM_PAGE_ROWS}`,
        after ? [...params, after.cursorAt, after.occurrenceId, after.deviceCode] : params,
      );
      for (const row of rows) yield isoTimes<AsRunEntryDto>(row);
      if (rows.length < STREAM_PAGE_ROWS) return;
      after = rows[rows.length - 1];
    }
  }
}

function logWhere(filter: AsRunFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [filter.from, filter.to];
  const clauses = ['o.start_at >= $1', 'o.start_at < $2'];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(`$${params.length}`));
  };
  if (filter.areaPath) add((p) => `a.path LIKE ${p}`, `${escapeLike(filter.areaPath)}%`);
  if (filter.scopePattern) add((p) => `a.path LIKE ${p}`, filter.scopePattern);
  if (filter.statuses?.length) add((p) => `dl.status = ANY(${p})`, filter.statuses);
  if (filter.broadcastId) add((p) => `o.broadcast_id = ${p}`, filter.broadcastId);
  if (filter.deviceCode) add((p) => `d.code = ${p}`, filter.deviceCode);
  return { where: clauses.join(' AND '), params };
}

/** Timestamps as ISO strings, and nothing but the DTO's fields. */
function isoTimes<T>(row: object): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'cursorAt') continue;
    out[key] = value instanceof Date ? value.toISOString() : value;
  }
  return out as T;
}
