import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { Area } from '../areas/area.entity.js';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { AppConfig } from '../config/app-config.js';
import { AlarmThreshold } from './alarm-threshold.entity.js';
import type { AlarmThresholdDto } from './dto/alarm-threshold.dto.js';

/** Per-area offline thresholds. The sweep resolves them in SQL; this answers what applies where. */
@Injectable()
export class AlarmThresholds {
  private readonly logger = new Logger(AlarmThresholds.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @InjectRepository(AlarmThreshold) private readonly thresholds: Repository<AlarmThreshold>,
    @Inject(AreasService) private readonly areas: AreasService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async get(principal: Principal, areaCode: string): Promise<AlarmThresholdDto> {
    return this.describe(await this.areaInScope(principal, areaCode));
  }

  /** null removes the area's own setting, so it inherits again. */
  async put(principal: Principal, areaCode: string, offlineAfterS: number | null): Promise<AlarmThresholdDto> {
    const area = await this.areaInScope(principal, areaCode);
    if (offlineAfterS === null) await this.thresholds.delete({ areaId: area.id });
    else await this.thresholds.upsert({ areaId: area.id, offlineAfterS }, ['areaId']);
    this.logger.log(`alarm threshold of ${area.code} ${offlineAfterS === null ? 'removed (inherits)' : `set to ${offlineAfterS} s`} by ${principal.username}`);
    return this.describe(area);
  }

  private async describe(area: Area): Promise<AlarmThresholdDto> {
    const [nearest] = await this.db.query<{ code: string; offline_after_s: number }[]>(
      `SELECT a.code, t.offline_after_s FROM alarm_thresholds t JOIN areas a ON a.id = t.area_id
        WHERE starts_with($1, a.path) ORDER BY length(a.path) DESC LIMIT 1`,
      [area.path],
    );
    return {
      areaCode: area.code,
      offlineAfterS: nearest?.code === area.code ? nearest.offline_after_s : null,
      effectiveOfflineAfterS: nearest?.offline_after_s ?? this.config.ALARM_OFFLINE_AFTER_S,
      inheritedFrom: nearest?.code ?? null,
    };
  }

  private async areaInScope(principal: Principal, code: string): Promise<Area> {
    const area = await this.areas.findInScope(code, principal);
    if (!area) throw new NotFoundException({ error: 'not-found', message: `area ${code} not found` });
    return area;
  }
}
