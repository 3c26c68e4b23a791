import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { Repository } from 'typeorm';
import { pageOf, type Page } from '../common/page.js';
import { escapeLike, isForeignKeyViolation } from '../common/postgres.js';
import type { Media } from '../media/media.entity.js';
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

type BulletinWithMedia = Bulletin & { media: Media };

/**
 * Bulletins and their approval: draft → submitted → approved | rejected, with who and when.
 * Every step is one conditional UPDATE on the expected status, so two reviewers acting at
 * once cannot both win.
 */
@Injectable()
export class BulletinsService {
  constructor(@InjectRepository(Bulletin) private readonly bulletins: Repository<Bulletin>) {}

  async create(dto: CreateBulletinDto, userId: string): Promise<BulletinDto> {
    const result = await this.referencingMedia(dto.mediaId, () =>
      this.bulletins.insert({
        title: dto.title,
        category: dto.category,
        mediaId: dto.mediaId,
        notes: dto.notes ?? null,
        status: 'draft',
        createdById: userId,
      }),
    );
    return this.get(result.identifiers[0].id as string);
  }

  async list(query: ListBulletinsQueryDto): Promise<Page<BulletinDto>> {
    const qb = this.bulletins
      .createQueryBuilder('b')
      .innerJoinAndSelect('b.media', 'm')
      .orderBy('b.created_at', 'DESC')
      .addOrderBy('b.id')
      .skip(query.skip)
      .take(query.pageSize);
    if (query.status) qb.andWhere('b.status = :status', { status: query.status });
    if (query.category) qb.andWhere('b.category = :category', { category: query.category });
    if (query.q) qb.andWhere('b.title ILIKE :q', { q: `%${escapeLike(query.q)}%` });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toBulletinDto), total, query);
  }

  async get(id: string): Promise<BulletinDto> {
    return toBulletinDto(await this.findOrFail(id));
  }

  /** Any edit returns the bulletin to draft: an approval covers the content it was given. */
  async edit(id: string, dto: UpdateBulletinDto): Promise<BulletinDto> {
    const changes = Object.fromEntries(
      (['title', 'category', 'mediaId', 'notes'] as const).filter((k) => dto[k] !== undefined).map((k) => [k, dto[k]]),
    );
    if (Object.keys(changes).length === 0) return this.get(id);
    const result = await this.referencingMedia(dto.mediaId, () =>
      this.bulletins.update({ id }, { ...changes, status: 'draft', ...NO_REVIEW }),
    );
    if (!result.affected) throw notFound(id);
    return this.get(id);
  }

  submit(id: string, userId: string): Promise<BulletinDto> {
    return this.review(id, 'submit', { submittedById: userId, submittedAt: new Date(), reviewedById: null, reviewedAt: null, rejectionReason: null });
  }

  approve(id: string, userId: string): Promise<BulletinDto> {
    return this.review(id, 'approve', { reviewedById: userId, reviewedAt: new Date() });
  }

  reject(id: string, userId: string, reason: string): Promise<BulletinDto> {
    return this.review(id, 'reject', { reviewedById: userId, reviewedAt: new Date(), rejectionReason: reason });
  }

  /** For broadcasting: the bulletin with its media, provided it is approved. */
  async requireBroadcastable(id: string): Promise<Bulletin> {
    const bulletin = await this.findOrFail(id);
    if (bulletin.status !== 'approved') {
      throw new ConflictException({
        error: 'not-approved',
        message: `bulletin ${id} is ${bulletin.status}; only an approved bulletin can be broadcast`,
      });
    }
    return bulletin;
  }

  private async review(id: string, step: Review, trail: Partial<Bulletin>): Promise<BulletinDto> {
    const { from, to, done } = REVIEWS[step];
    const result = await this.bulletins
      .createQueryBuilder()
      .update()
      .set({ ...trail, status: to })
      .where('id = :id AND status IN (:...from)', { id, from })
      .execute();
    if (!result.affected) {
      const current = await this.findOrFail(id);
      throw new ConflictException({
        error: 'invalid-transition',
        message: `bulletin is ${current.status}; only a ${from.join(' or ')} bulletin can be ${done}`,
      });
    }
    return this.get(id);
  }

  private async findOrFail(id: string): Promise<BulletinWithMedia> {
    const bulletin = isUUID(id) ? await this.bulletins.findOne({ where: { id }, relations: { media: true } }) : null;
    if (!bulletin) throw notFound(id);
    return bulletin;
  }

  /** A media id in a request body that names no media is the caller's mistake (400), and nothing is written. */
  private async referencingMedia<T>(mediaId: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (mediaId !== undefined && isForeignKeyViolation(err)) {
        throw new BadRequestException({ error: 'unknown-media', message: `media ${mediaId} not found` });
      }
      throw err;
    }
  }
}

function notFound(id: string): NotFoundException {
  return new NotFoundException({ error: 'not-found', message: `bulletin ${id} not found` });
}
