import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';
import { pageOf, type Page } from '../common/page.js';
import { escapeLike } from '../common/postgres.js';
import { isUuid } from '../common/uuid.js';
import { AlarmNotifier } from './alarm-notifier.service.js';
import { AlarmsRepository } from './alarms.repository.js';
import { toAlarmDto, type AcknowledgeAlarmDto, type AlarmDto, type ListAlarmsQueryDto } from './dto/alarm.dto.js';

/** What operators do with alarms: list the ones in their area, acknowledge them. */
@Injectable()
export class AlarmsService {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(AlarmsRepository) private readonly alarms: AlarmsRepository,
    @Inject(AlarmNotifier) private readonly notifier: AlarmNotifier,
    @Inject(AreasService) private readonly areas: AreasService,
  ) {}

  async list(principal: Principal, query: ListAlarmsQueryDto): Promise<Page<AlarmDto>> {
    const patterns: string[] = [];
    const scope = scopeLikePattern(principal);
    if (scope) patterns.push(scope);
    if (query.areaCode) patterns.push(`${escapeLike(await this.filterAreaPath(principal, query.areaCode))}%`);
    const { rows, total } = await this.alarms.list({
      state: query.state,
      pathPatterns: patterns,
      acknowledged: query.acknowledged === undefined ? undefined : query.acknowledged === 'true',
      skip: query.skip,
      take: query.pageSize,
    });
    return pageOf(rows.map(toAlarmDto), total, query);
  }

  /**
   * A cleared alarm may still be acknowledged: the outage happened, and the record shows who
   * looked at it. Acknowledging twice is refused so the first person's note is not lost.
   */
  async acknowledge(principal: Principal, id: string, dto: AcknowledgeAlarmDto): Promise<AlarmDto> {
    const alarm = isUuid(id) ? await this.alarms.findById(id) : null;
    if (!alarm || !inScope(principal, alarm.area_path)) throw this.notFound(id);
    const announcement = await this.db.transaction(async (em) => {
      const done = await this.alarms.acknowledge(em, id, principal, dto.note || null);
      if (!done) return null;
      return this.notifier.record(em, [{ type: 'alarm.acknowledged', rows: await this.alarms.findByIds([id], em) }]);
    });
    if (!announcement) {
      const by = (await this.alarms.findById(id))?.acknowledged_by ?? 'someone';
      throw new ConflictException({ error: 'already-acknowledged', message: `alarm ${id} was already acknowledged by ${by}` });
    }
    this.notifier.announce(announcement);
    return announcement.events[0].alarm;
  }

  private notFound(id: string): NotFoundException {
    return new NotFoundException({ error: 'not-found', message: `alarm ${id} not found` });
  }

  /** An area named in a filter: unknown, or outside the caller's scope, is the same 400. */
  private async filterAreaPath(principal: Principal, code: string): Promise<string> {
    const area = await this.areas.findInScope(code, principal);
    if (!area) throw new BadRequestException({ error: 'unknown-area', message: `area ${code} not found` });
    return area.path;
  }
}
