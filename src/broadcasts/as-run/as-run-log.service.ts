import { Readable, pipeline } from 'node:stream';
import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import type { Area } from '../../areas/area.entity.js';
import { AreasService } from '../../areas/areas.service.js';
import type { Principal } from '../../auth/principal.js';
import { inScope, scopeLikePattern } from '../../auth/scope.js';
import { pageOf, type Page } from '../../common/page.js';
import { AsRunQueries, type AsRunFilter } from './as-run-queries.repository.js';
import {
  AS_RUN_CSV_COLUMNS,
  type AsRunEntryDto,
  type AsRunLogQueryDto,
  type OccurrenceDeliveriesDto,
  type OccurrenceDeliveriesQueryDto,
} from './dto/as-run.dto.js';

const DAY_MS = 24 * 3600 * 1000;
/** A quarter (and a bit): enough for any report, short enough that one request cannot scan years of a country. */
const MAX_WINDOW_DAYS = 93;

/** The as-run log as operators read it: one occurrence's deliveries, or the log over a window, as JSON or CSV. */
@Injectable()
export class AsRunLog {
  private readonly logger = new Logger(AsRunLog.name);

  constructor(
    @Inject(AsRunQueries) private readonly queries: AsRunQueries,
    @Inject(AreasService) private readonly areas: AreasService,
  ) {}

  /** An occurrence of a broadcast outside the caller's area is answered like a missing one. */
  async deliveriesOfOccurrence(occurrenceId: string, query: OccurrenceDeliveriesQueryDto, principal: Principal): Promise<OccurrenceDeliveriesDto> {
    const areaPath = await this.queries.areaPathOfOccurrence(occurrenceId);
    if (areaPath === undefined || !inScope(principal, areaPath)) {
      throw new NotFoundException({ error: 'not-found', message: `occurrence ${occurrenceId} not found` });
    }
    const [{ rows, total }, counts] = await Promise.all([
      this.queries.deliveriesOfOccurrence(occurrenceId, query.status, { skip: query.skip, take: query.pageSize }),
      this.queries.statusCountsOfOccurrence(occurrenceId),
    ]);
    return { ...pageOf(rows, total, query), counts };
  }

  async page(query: AsRunLogQueryDto, principal: Principal): Promise<Page<AsRunEntryDto>> {
    const { rows, total } = await this.queries.logPage(await this.filterOf(query, principal), { skip: query.skip, take: query.pageSize });
    return pageOf(rows, total, query);
  }

  /** Every matching row (paging ignored), streamed: a month of a province is millions of rows. */
  async csv(query: AsRunLogQueryDto, principal: Principal): Promise<{ filename: string; body: Readable }> {
    const filter = await this.filterOf(query, principal);
    const body = stringify({ header: true, columns: [...AS_RUN_CSV_COLUMNS] });
    pipeline(Readable.from(this.queries.streamLog(filter)), body, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        this.logger.error(`as-run CSV export broke off: ${err.message}`);
      }
    });
    return { filename: `as-run-${compactIso(filter.from)}-${compactIso(filter.to)}.csv`, body };
  }

  /** Only deliveries to devices in the caller's area, whatever the filter says. */
  private async filterOf(query: AsRunLogQueryDto, principal: Principal): Promise<AsRunFilter> {
    const { from, to } = windowOf(query);
    const area = query.areaCode ? await this.area(query.areaCode, principal) : null;
    return {
      from,
      to,
      areaPath: area?.path,
      scopePattern: scopeLikePattern(principal) ?? undefined,
      statuses: query.status?.length ? query.status : undefined,
      broadcastId: query.broadcastId,
      deviceCode: query.deviceCode,
    };
  }

  private async area(code: string, principal: Principal): Promise<Area> {
    try {
      return await this.areas.getInScope(code, principal);
    } catch (err) {
      if (err instanceof NotFoundException) throw new NotFoundException({ error: 'unknown-area', message: `area ${code} not found` });
      throw err;
    }
  }
}

/** [from, to): by default the last 24 h; `from` alone runs to now, `to` alone reaches back 24 h. */
function windowOf(query: AsRunLogQueryDto): { from: Date; to: Date } {
  const to = query.to ? instant(query.to, 'to') : new Date();
  const from = query.from ? instant(query.from, 'from') : new Date(to.getTime() - DAY_MS);
  if (from > to) throw new BadRequestException({ error: 'invalid-window', message: 'from must not be after to' });
  if (to.getTime() - from.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw new BadRequestException({ error: 'invalid-window', message: `from and to must be at most ${MAX_WINDOW_DAYS} days apart` });
  }
  return { from, to };
}

function instant(iso: string, name: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new BadRequestException({ error: 'validation', message: [`${name} must be an ISO-8601 date-time`] });
  return date;
}

/** `20260301T000000Z`: ISO-8601 basic format, safe in a file name on every system. */
function compactIso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}/, '').replace(/[-:]/g, '');
}
