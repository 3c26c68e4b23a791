import { randomUUID } from 'node:crypto';
import { parse } from 'node:path';
import { Inject, Injectable, Logger, NotFoundException, UnsupportedMediaTypeException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AreasService } from '../areas/areas.service.js';
import type { Principal } from '../auth/principal.js';
import { inScope, scopeLikePattern } from '../auth/scope.js';
import type { MediaPayload } from '../broker/payloads.js';
import { pageOf, type Page } from '../common/page.js';
import { AppConfig } from '../config/app-config.js';
import type { ReceivedAudio } from './audio-upload.interceptor.js';
import { probeAudio } from './audio-probe.js';
import type { Area } from '../areas/area.entity.js';
import {
  toMediaDto,
  type CreateStreamDto,
  type ListMediaQueryDto,
  type MediaDto,
  type StreamDto,
  type UploadAudioDto,
} from './dto/media.dto.js';
import { MediaStorage } from './media-storage.js';
import { MediaUrlSigner } from './media-url-signer.js';
import { Media } from './media.entity.js';

const HOUR_S = 3600;

/** The media library: audio files and stream sources, and what devices are told about them. */
@Injectable()
export class MediaService {
  private readonly logger = new Logger(MediaService.name);

  constructor(
    @InjectRepository(Media) private readonly media: Repository<Media>,
    @Inject(MediaStorage) private readonly storage: MediaStorage,
    @Inject(MediaUrlSigner) private readonly signer: MediaUrlSigner,
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(AreasService) private readonly areas: AreasService,
  ) {}

  /** Keeps a received upload if it is playable audio; the incoming file is gone either way. */
  async storeUpload(upload: ReceivedAudio, fields: UploadAudioDto, principal: Principal): Promise<MediaDto> {
    const id = randomUUID();
    let area: Area | null;
    let key: string;
    let durationMs: number;
    let mime: string;
    try {
      area = await this.areas.owningArea(principal, fields.areaCode);
      const probe = await probeAudio(upload.path, upload.size);
      if (!probe.ok) throw new UnsupportedMediaTypeException({ error: 'unsupported-media', message: probe.reason });
      ({ durationMs, mime } = probe.audio);
      key = await this.storage.write(upload.path, id);
    } catch (err) {
      await this.storage.discardIncoming(upload.path);
      throw err;
    }
    const row = this.media.create({
      id,
      kind: 'file',
      title: fields.title ?? defaultTitle(upload.originalname),
      sha256: upload.sha256,
      bytes: upload.size,
      durationMs,
      mime,
      storageKey: key,
      originalName: upload.originalname.slice(0, 255) || null,
      createdById: principal.userId,
      areaId: area?.id ?? null,
      area,
    });
    try {
      await this.media.insert(row);
    } catch (err) {
      await this.storage.remove(key);
      throw err;
    }
    this.logger.log(`media ${id}: ${mime}, ${upload.size} bytes, ${durationMs} ms, uploaded by ${principal.username}`);
    return toMediaDto(row);
  }

  async createStream(dto: CreateStreamDto, principal: Principal): Promise<StreamDto> {
    const area = await this.areas.owningArea(principal, dto.areaCode);
    const row = this.media.create({
      kind: 'stream',
      title: dto.title,
      streamUrl: dto.url,
      createdById: principal.userId,
      areaId: area?.id ?? null,
      area,
    });
    await this.media.insert(row);
    return toMediaDto(row) as StreamDto;
  }

  async list(query: ListMediaQueryDto, principal: Principal): Promise<Page<MediaDto>> {
    const qb = this.media
      .createQueryBuilder('m')
      .leftJoinAndSelect('m.area', 'a')
      .orderBy('m.createdAt', 'DESC')
      .addOrderBy('m.id')
      .skip(query.skip)
      .take(query.pageSize);
    const scope = scopeLikePattern(principal);
    if (scope) qb.andWhere('a.path LIKE :scope', { scope });
    if (query.kind) qb.andWhere('m.kind = :kind', { kind: query.kind });
    const [rows, total] = await qb.getManyAndCount();
    return pageOf(rows.map(toMediaDto), total, query);
  }

  async get(id: string, principal: Principal): Promise<MediaDto> {
    return toMediaDto(await this.findInScope(id, principal));
  }

  /** A media outside the caller's subtree is answered exactly like a missing one. */
  async findInScope(id: string, principal: Principal): Promise<Media> {
    const media = await this.media.findOne({ where: { id }, relations: { area: true } });
    if (!media || !inScope(principal, media.area?.path)) throw new NotFoundException(`media ${id} not found`);
    return media;
  }

  /** The media a broadcast is about to name; 404 if there is none. */
  findForBroadcast(id: string): Promise<Media> {
    return this.findOrFail(id);
  }

  /**
   * What a device is told about a media. A file's URL carries a signed token that expires
   * at least MEDIA_TOKEN_TTL_S from `now`, rounded up to the hour: publishing the same
   * schedule again within the hour yields the very same URL, and devices compare schedules.
   */
  devicePayload(media: Media, now = new Date()): MediaPayload {
    if (media.kind === 'stream') return { streamUrl: media.streamUrl! };
    const exp = Math.ceil((now.getTime() / 1000 + this.config.MEDIA_TOKEN_TTL_S) / HOUR_S) * HOUR_S;
    const token = this.signer.sign(media.id, new Date(exp * 1000));
    const base = this.config.PUBLIC_URL.replace(/\/+$/, '');
    return {
      url: `${base}/api/v1/media/${media.id}/content?token=${token}`,
      sha256: media.sha256!,
      bytes: media.bytes!,
      durationMs: media.durationMs!,
      mime: media.mime!,
    };
  }

  async findOrFail(id: string): Promise<Media> {
    const media = await this.media.findOneBy({ id });
    if (!media) throw new NotFoundException(`media ${id} not found`);
    return media;
  }
}

function defaultTitle(originalName: string): string | null {
  return parse(originalName).name.trim().slice(0, 200) || null;
}
