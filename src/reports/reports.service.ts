import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { scopeLikePattern } from '../auth/scope.js';
import { escapeLike } from '../common/postgres.js';
import {
  BROADCAST_CSV_COLUMNS,
  type BroadcastFiguresDto,
  type BroadcastReportDto,
  type CommuneBroadcastsDto,
} from './dto/broadcast-report.dto.js';
import type { ReportQueryDto } from './dto/report-query.dto.js';
import { UPTIME_CSV_COLUMNS, type UptimeReportDto } from './dto/uptime-report.dto.js';
import { ReportQueries, type BroadcastFiguresRow, type ReportScope } from './reports.repository.js';

const DAY_MS = 24 * 3600 * 1000;
/** A leap year: a whole year's report fits, and one request cannot scan a decade of a country. */
const MAX_PERIOD_DAYS = 366;

export interface CsvReport {
  filename: string;
  body: string;
}

/** Per-area reports over a period: device uptime, and what played where. */
@Injectable()
export class ReportsService {
  constructor(
    @Inject(ReportQueries) private readonly queries: ReportQueries,
    @Inject(AreasService) private readonly areas: AreasService,
  ) {}

  async uptime(principal: Principal, query: ReportQueryDto): Promise<UptimeReportDto> {
    const { areaCode, scope } = await this.scopeOf(principal, query);
    const devices = (await this.queries.uptime(scope)).map((row) => ({
      code: row.code,
      name: row.name,
      communeCode: row.communeCode,
      communeName: row.communeName,
      onlineSeconds: Math.round(row.onlineSeconds),
      observedSeconds: Math.round(row.observedSeconds),
      uptimePct: (100 * row.onlineSeconds) / row.observedSeconds,
    }));
    const mean = devices.length ? devices.reduce((sum, d) => sum + d.uptimePct, 0) / devices.length : null;
    return {
      areaCode,
      from: scope.from.toISOString(),
      to: scope.to.toISOString(),
      devices: devices.map((d) => ({ ...d, uptimePct: round2(d.uptimePct) })),
      summary: { devices: devices.length, meanUptimePct: mean === null ? null : round2(mean) },
    };
  }

  async broadcasts(principal: Principal, query: ReportQueryDto): Promise<BroadcastReportDto> {
    const { areaCode, scope } = await this.scopeOf(principal, query);
    const rows = await this.queries.broadcastFigures(scope);
    const totals = rows.find((r) => r.total)!;
    return {
      areaCode,
      from: scope.from.toISOString(),
      to: scope.to.toISOString(),
      communes: rows
        .filter((r) => !r.total)
        .map((r): CommuneBroadcastsDto => ({ communeCode: r.communeCode!, communeName: r.communeName!, ...figuresOf(r) })),
      totals: figuresOf(totals),
    };
  }

  uptimeCsv(report: UptimeReportDto): CsvReport {
    return {
      filename: `uptime-${fileStem(report)}.csv`,
      body: stringify(report.devices, { header: true, columns: [...UPTIME_CSV_COLUMNS] }),
    };
  }

  /** One row per commune, then a `total` row for the whole area (its code is left empty). */
  broadcastsCsv(report: BroadcastReportDto): CsvReport {
    const total: CommuneBroadcastsDto = { communeCode: '', communeName: 'total', ...report.totals };
    return {
      filename: `broadcasts-${fileStem(report)}.csv`,
      body: stringify([...report.communes, total], { header: true, columns: [...BROADCAST_CSV_COLUMNS] }),
    };
  }

  /**
   * The subtree and period asked for. Without `areaCode` the caller's own area (the country
   * for admins); an area outside the caller's scope is answered like an unknown one.
   */
  private async scopeOf(principal: Principal, query: ReportQueryDto): Promise<{ areaCode: string | null; scope: ReportScope }> {
    const { from, to } = periodOf(query);
    if (!query.areaCode) {
      return { areaCode: principal.role === 'admin' ? null : principal.areaCode, scope: { pathPattern: scopeLikePattern(principal), from, to } };
    }
    const area = await this.areas.findInScope(query.areaCode, principal);
    if (!area) {
      throw new NotFoundException({ error: 'unknown-area', message: `area ${query.areaCode} not found` });
    }
    return { areaCode: area.code, scope: { pathPattern: `${escapeLike(area.path)}%`, from, to } };
  }
}

function periodOf(query: ReportQueryDto): { from: Date; to: Date } {
  const from = new Date(query.from);
  const to = new Date(query.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new BadRequestException({ error: 'validation', message: ['from and to must be ISO-8601 date-times'] });
  }
  if (to <= from) throw new BadRequestException({ error: 'invalid-window', message: 'to must be after from' });
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * DAY_MS) {
    throw new BadRequestException({ error: 'invalid-window', message: `from and to must be at most ${MAX_PERIOD_DAYS} days apart` });
  }
  return { from, to };
}

function figuresOf(row: BroadcastFiguresRow): BroadcastFiguresDto {
  return {
    devices: row.devices,
    broadcasts: row.broadcasts,
    occurrences: row.occurrences,
    minutesPlayed: round2(row.playedMs / 60_000),
    deliveries: row.deliveries,
    delivered: row.delivered,
    successRate: row.deliveries ? round2((100 * row.delivered) / row.deliveries) : null,
    missed: row.missed,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** `06-20260301T000000Z-20260401T000000Z`: the area (`all` for the country) and the period in ISO basic format. */
function fileStem(report: { areaCode: string | null; from: string; to: string }): string {
  const compact = (iso: string) => iso.replace(/\.\d{3}/, '').replace(/[-:]/g, '');
  return `${report.areaCode ?? 'all'}-${compact(report.from)}-${compact(report.to)}`;
}
