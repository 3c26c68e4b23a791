import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { pageOf, type Page } from '../common/page.js';
import { Area, areaCodesOfPath, PARENT_LEVEL } from './area.entity.js';
import {
  toAreaDto,
  toAreaRefDto,
  type AreaDetailDto,
  type AreaDto,
  type CreateAreaDto,
  type ListAreasQueryDto,
  type UpdateAreaDto,
} from './dto/area.dto.js';
import { escapeLike, isForeignKeyViolation, isUniqueViolation } from '../common/postgres.js';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';

/** The administrative tree, addressed by official code. */
@Injectable()
export class AreasService {
  constructor(@InjectRepository(Area) private readonly areas: Repository<Area>) {}

  /** The area with this official code, or a 404 naming it. */
  async getByCode(code: string): Promise<Area> {
    const area = await this.areas.findOne({ where: { code } });
    if (!area) throw new NotFoundException(`area ${code} not found`);
    return area;
  }

  /** The area with this code if it exists inside the caller's subtree; null for unknown and outside alike. */
  async findInScope(code: string, principal: Principal): Promise<Area | null> {
    const area = await this.areas.findOne({ where: { code } });
    return area && inScope(principal, area.path) ? area : null;
  }

  /** Like getByCode, but an area outside the caller's subtree is answered exactly as an unknown one. */
  async getInScope(code: string, principal: Principal): Promise<Area> {
    const area = await this.findInScope(code, principal);
    if (!area) throw new NotFoundException(`area ${code} not found`);
    return area;
  }

  /**
   * An area named in a request body or filter: unknown or outside the caller's subtree is the
   * caller's mistake (400 `unknown-area`), not a missing resource.
   */
  async referencedArea(code: string, principal: Principal): Promise<Area> {
    try {
      return await this.getInScope(code, principal);
    } catch (err) {
      if (err instanceof NotFoundException) throw new BadRequestException({ error: 'unknown-area', message: `area ${code} not found` });
      throw err;
    }
  }

  /**
   * The area a new media or bulletin belongs to: the one named (inside the caller's subtree),
   * else the caller's own root; null (national) only for admins.
   */
  async owningArea(principal: Principal, requested: string | null | undefined): Promise<Area | null> {
    if (typeof requested === 'string') return this.referencedArea(requested, principal);
    if (principal.role === 'admin') return null;
    if (requested === null || !principal.areaCode) {
      throw new BadRequestException({ error: 'validation', message: ['areaCode null (national) is for admins only'] });
    }
    return this.referencedArea(principal.areaCode, principal);
  }

  async create(dto: CreateAreaDto): Promise<AreaDto> {
    const parent = await this.parentFor(dto);
    try {
      await this.areas.insert({
        code: dto.code,
        name: dto.name,
        level: dto.level,
        parentId: parent?.id ?? null,
        path: `${parent?.path ?? '/'}${dto.code}/`,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictException({ error: 'conflict', message: `area code ${dto.code} is taken` });
      if (isForeignKeyViolation(err)) throw new NotFoundException(`area ${dto.parentCode} not found`);
      throw err;
    }
    return toAreaDto(await this.getByCode(dto.code));
  }

  async list(query: ListAreasQueryDto, principal: Principal): Promise<Page<AreaDto>> {
    const qb = this.areas.createQueryBuilder('a').orderBy('a.code').offset(query.skip).limit(query.pageSize);
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    if (query.parentCode) {
      const parent = await this.getInScope(query.parentCode, principal);
      qb.andWhere('a.parentId = :parentId', { parentId: parent.id });
    }
    if (query.level) qb.andWhere('a.level = :level', { level: query.level });
    if (query.q) qb.andWhere('(a.code ILIKE :q OR a.name ILIKE :q)', { q: `%${escapeLike(query.q.trim())}%` });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toAreaDto), total, query);
  }

  /** Ancestors are shown even above the caller's root: they are the breadcrumbs to it. */
  async get(code: string, principal: Principal): Promise<AreaDetailDto> {
    const area = await this.getInScope(code, principal);
    const ancestorCodes = areaCodesOfPath(area.path).slice(0, -1);
    const [ancestors, childCount] = await Promise.all([
      ancestorCodes.length ? this.areas.find({ where: { code: In(ancestorCodes) } }) : [],
      this.areas.count({ where: { parentId: area.id } }),
    ]);
    ancestors.sort((a, b) => a.path.length - b.path.length);
    return { ...toAreaDto(area), ancestors: ancestors.map(toAreaRefDto), childCount };
  }

  async rename(code: string, dto: UpdateAreaDto): Promise<AreaDto> {
    const area = await this.getByCode(code);
    if (dto.name === undefined || dto.name === area.name) return toAreaDto(area);
    await this.areas.update({ id: area.id }, { name: dto.name });
    return toAreaDto(await this.getByCode(code));
  }

  /** Refused while anything still hangs off the area: deleting must never orphan a speaker. */
  async remove(code: string): Promise<void> {
    const area = await this.getByCode(code);
    // Decommissioned devices count too: their history still points at the area.
    const [usage] = await this.areas.query<{ children: number; devices: number; users: number }[]>(
      `SELECT (SELECT count(*)::int FROM areas WHERE parent_id = $1) AS children,
              (SELECT count(*)::int FROM devices WHERE area_id = $1) AS devices,
              (SELECT count(*)::int FROM users WHERE area_id = $1) AS users`,
      [area.id],
    );
    const blocker =
      (usage.children && `${usage.children} child ${plural(usage.children, 'area')}`) ||
      (usage.devices && `${usage.devices} ${plural(usage.devices, 'device')}`) ||
      (usage.users && `${usage.users} ${plural(usage.users, 'user')} scoped to it`);
    if (blocker) throw new ConflictException({ error: 'conflict', message: `area ${code} still has ${blocker}` });
    try {
      await this.areas.delete({ id: area.id });
    } catch (err) {
      // Something was attached between the count and the delete.
      if (isForeignKeyViolation(err)) {
        throw new ConflictException({ error: 'conflict', message: `area ${code} is still referenced by a child area, device or user` });
      }
      throw err;
    }
  }

  private async parentFor(dto: CreateAreaDto): Promise<Area | null> {
    const wanted = PARENT_LEVEL[dto.level];
    if (!wanted) {
      if (dto.parentCode) throw hierarchyError(`a province has no parent area; leave out parentCode`);
      return null;
    }
    if (!dto.parentCode) throw hierarchyError(`a ${dto.level} needs parentCode, the code of its ${wanted}`);
    const parent = await this.getByCode(dto.parentCode);
    if (parent.level !== wanted) {
      throw hierarchyError(`the parent of a ${dto.level} must be a ${wanted}, but ${parent.code} is a ${parent.level}`);
    }
    return parent;
  }
}

function hierarchyError(message: string): BadRequestException {
  return new BadRequestException({ error: 'hierarchy', message });
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
