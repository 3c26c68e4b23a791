import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { Repository, type EntityManager } from 'typeorm';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';
import { pageOf, type Page } from '../common/page.js';
import { escapeLike, isForeignKeyViolation } from '../common/postgres.js';
import type { Media } from '../media/media.entity.js';
import { MediaService } from '../media/media.service.js';
import { Bulletin, type BulletinStatus } from './bulletin.entity.js';
import {
  toBulletinDto,
  type BulletinDto,
  type CreateBulletinDto,
  type ListBulletinsQueryDto,
  type UpdateBulletinDto,
} from './dto/bulletin.dto.js';

type Review = 'submit' | 'approve' | 'reject';

/** The approval workflow: which states each step starts from, and where it leads. */
const REVIEWS: Record<Review, { from: BulletinStatus[]; to: BulletinStatus; done: string }> = {
  submit: { from: ['draft', 'rejected'], to: 'submitted', done: 'submitted' },
  approve: { from: ['submitted'], to: 'approved', done: 'approved' },
  reject: { from: ['submitted'], to: 'rejected', done: 'rejected' },
};

/** The trail of a review round; an edit wipes it, since it no longer describes the content. */
const NO_REVIEW = {
  submittedById: null,
  submittedAt: null,
  reviewedById: null,
  reviewedAt: null,
  rejectionReason: null,
} as const;

export type BulletinWithMedia = Bulletin & { media: Media };

/**
 * Bulletins and their approval: draft → submitted → approved | rejected, with who and when.
 * Every step is one conditional UPDATE on the expected status, so two reviewers acting at
 * once cannot both win.
 */
@Injectable()
export class BulletinsService {
  constructor(
    @InjectRepository(Bulletin) private readonly bulletins: Repository<Bulletin>,
    @Inject(AreasService) private readonly areas: AreasService,
    @Inject(MediaService) private readonly media: MediaService,
  ) {}

  async create(dto: CreateBulletinDto, principal: Principal): Promise<BulletinDto> {
    const area = await this.areas.owningArea(principal, dto.areaCode);
    await this.requireMediaInScope(dto.mediaId, principal);
    const result = await this.referencingMedia(dto.mediaId, () =>
      this.bulletins.insert({
        title: dto.title,
        category: dto.category,
        mediaId: dto.mediaId,
        notes: dto.notes ?? null,
        status: 'draft',
        createdById: principal.userId,
        areaId: area?.id ?? null,
      }),
    );
    return this.get(result.identifiers[0].id as string, principal);
  }

  async list(query: ListBulletinsQueryDto, principal: Principal): Promise<Page<BulletinDto>> {
    const qb = this.bulletins
      .createQueryBuilder('b')
      .innerJoinAndSelect('b.media', 'm')
      .leftJoinAndSelect('b.area', 'a')
      .orderBy('b.created_at', 'DESC')
      .addOrderBy('b.id')
      .skip(query.skip)
      .take(query.pageSize);
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    if (query.status) qb.andWhere('b.status = :status', { status: query.status });
    if (query.category) qb.andWhere('b.category = :category', { category: query.category });
    if (query.q) qb.andWhere('b.title ILIKE :q', { q: `%${escapeLike(query.q)}%` });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toBulletinDto), total, query);
  }

  async get(id: string, principal: Principal): Promise<BulletinDto> {
    return toBulletinDto(await this.findOrFail(id, principal));
  }

  /** Any edit returns the bulletin to draft: an approval covers the content it was given. */
  async edit(id: string, dto: UpdateBulletinDto, principal: Principal): Promise<BulletinDto> {
    await this.findOrFail(id, principal);
    const changes = Object.fromEntries(
      (['title', 'category', 'mediaId', 'notes'] as const).filter((k) => dto[k] !== undefined).map((k) => [k, dto[k]]),
    );
    if (Object.keys(changes).length === 0) return this.get(id, principal);
    if (dto.mediaId !== undefined) await this.requireMediaInScope(dto.mediaId, principal);
    const result = await this.referencingMedia(dto.mediaId, () =>
      this.bulletins.update({ id }, { ...changes, status: 'draft', ...NO_REVIEW }),
    );
    if (!result.affected) throw notFound(id);
    return this.get(id, principal);
  }

  submit(id: string, principal: Principal): Promise<BulletinDto> {
    return this.review(id, principal, 'submit', {
      submittedById: principal.userId,
      submittedAt: new Date(),
      reviewedById: null,
      reviewedAt: null,
      rejectionReason: null,
    });
  }

  approve(id: string, principal: Principal): Promise<BulletinDto> {
    return this.review(id, principal, 'approve', { reviewedById: principal.userId, reviewedAt: new Date() });
  }

  reject(id: string, principal: Principal, reason: string): Promise<BulletinDto> {
    return this.review(id, principal, 'reject', { reviewedById: principal.userId, reviewedAt: new Date(), rejectionReason: reason });
  }

  /** For broadcasting: the bulletin with its media, provided it is approved. */
  async requireBroadcastable(id: string, principal: Principal): Promise<BulletinWithMedia> {
    const bulletin = await this.findOrFail(id, principal);
    if (bulletin.status !== 'approved') throw notApproved(bulletin);
    return bulletin;
  }

  /**
   * For an emergency, inside the caller's transaction: approves the bulletin if it awaits
   * approval (the caller becomes its reviewer), or takes it as it is if already approved.
   * The row stays locked until the transaction ends, so nobody edits it meanwhile.
   */
  async approveWithin(em: EntityManager, id: string, principal: Principal): Promise<BulletinWithMedia> {
    await this.findOrFail(id, principal);
    await em.query(`SELECT 1 FROM bulletins WHERE id = $1 FOR UPDATE`, [id]);
    await em.query(
      `UPDATE bulletins SET status = 'approved', reviewed_by_id = $2, reviewed_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'submitted'`,
      [id, principal.userId],
    );
    const bulletin = await em.getRepository(Bulletin).findOne({ where: { id }, relations: { media: true, area: true } });
    if (!bulletin) throw notFound(id);
    if (bulletin.status !== 'approved') throw notApproved(bulletin, 'only a submitted or approved bulletin can be broadcast as an emergency');
    return bulletin;
  }

  private async review(id: string, principal: Principal, step: Review, trail: Partial<Bulletin>): Promise<BulletinDto> {
    await this.findOrFail(id, principal);
    const { from, to, done } = REVIEWS[step];
    const result = await this.bulletins
      .createQueryBuilder()
      .update()
      .set({ ...trail, status: to })
      .where('id = :id AND status IN (:...from)', { id, from })
      .execute();
    if (!result.affected) {
      const current = await this.findOrFail(id, principal);
      throw new ConflictException({
        error: 'invalid-transition',
        message: `bulletin is ${current.status}; only a ${from.join(' or ')} bulletin can be ${done}`,
      });
    }
    return this.get(id, principal);
  }

  /** A bulletin outside the caller's subtree is answered exactly like a missing one. */
  private async findOrFail(id: string, principal: Principal): Promise<BulletinWithMedia> {
    const bulletin = isUUID(id) ? await this.bulletins.findOne({ where: { id }, relations: { media: true, area: true } }) : null;
    if (!bulletin || !inScope(principal, bulletin.area?.path)) throw notFound(id);
    return bulletin;
  }

  /** Media outside the caller's subtree is refused exactly like unknown media. */
  private async requireMediaInScope(mediaId: string, principal: Principal): Promise<void> {
    try {
      await this.media.findInScope(mediaId, principal);
    } catch (err) {
      if (err instanceof NotFoundException) throw unknownMedia(mediaId);
      throw err;
    }
  }

  /** A media id in a request body that names no media is the caller's mistake (400), and nothing is written. */
  private async referencingMedia<T>(mediaId: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (mediaId !== undefined && isForeignKeyViolation(err)) {
        throw unknownMedia(mediaId);
      }
      throw err;
    }
  }
}

function unknownMedia(mediaId: string): BadRequestException {
  return new BadRequestException({ error: 'unknown-media', message: `media ${mediaId} not found` });
}

function notApproved(bulletin: Bulletin, rule = 'only an approved bulletin can be broadcast'): ConflictException {
  return new ConflictException({ error: 'not-approved', message: `bulletin ${bulletin.id} is ${bulletin.status}; ${rule}` });
}

function notFound(id: string): NotFoundException {
  return new NotFoundException({ error: 'not-found', message: `bulletin ${id} not found` });
}
