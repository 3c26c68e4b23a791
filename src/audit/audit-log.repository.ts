import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AuditEntry } from './audit-entry.entity.js';
import type { ListAuditQueryDto } from './dto/audit.dto.js';

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

@Injectable()
export class AuditLogRepository {
  constructor(@InjectRepository(AuditEntry) private readonly entries: Repository<AuditEntry>) {}

  async append(entry: NewAuditEntry): Promise<void> {
    // before/after are arbitrary JSON, which TypeORM's deep-partial type cannot express.
    await this.entries.insert(entry as QueryDeepPartialEntity<AuditEntry>);
  }

  /** Reads one row as JSON for a before-image; a table that is missing or a bad key gives null. */
  async rowAsJson(sql: string, key: string): Promise<unknown> {
    const rows = (await this.entries.manager.query(`SELECT to_jsonb(r) AS row FROM (${sql}) r`, [key])) as { row: unknown }[];
    return rows[0]?.row ?? null;
  }

  async findPage(query: ListAuditQueryDto): Promise<[AuditEntry[], number]> {
    const qb = this.entries.createQueryBuilder('e').orderBy('e.id', 'DESC').skip(query.skip).take(query.pageSize);
    if (query.from) qb.andWhere('e.at >= :from', { from: query.from });
    if (query.to) qb.andWhere('e.at < :to', { to: query.to });
    if (query.username) qb.andWhere('e.username = :username', { username: query.username });
    if (query.action) qb.andWhere('e.action = :action', { action: query.action });
    if (query.resourceType) qb.andWhere('e.resourceType = :resourceType', { resourceType: query.resourceType });
    if (query.resourceId) qb.andWhere('e.resourceId = :resourceId', { resourceId: query.resourceId });
    if (query.outcome) qb.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    return qb.getManyAndCount();
  }
}
