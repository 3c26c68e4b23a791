import { randomUUID } from 'node:crypto';
import { parse } from 'node:path';
import { Inject, Injectable, Logger, NotFoundException, UnsupportedMediaTypeException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { MediaPayload } from '../broker/payloads.js';
import { pageOf, type Page } from '../common/page.js';
import { AppConfig } from '../config/app-config.js';
import type { ReceivedAudio } from './audio-upload.interceptor.js';
import { probeAudio } from './audio-probe.js';
import { toMediaDto, type CreateStreamDto, type ListMediaQueryDto, type MediaDto, type StreamDto } from './dto/media.dto.js';
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
  ) {}

  /** Keeps a received upload if it is playable audio; the incoming file is gone either way. */
  async storeUpload(upload: ReceivedAudio, title: string | undefined, userId: string): Promise<MediaDto> {
    const id = randomUUID();
    let key: string;
    let durationMs: number;
    let mime: string;
    try {
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
      title: title ?? defaultTitle(upload.originalname),
      sha256: upload.sha256,
      bytes: upload.size,
      durationMs,
      mime,
      storageKey: key,
      originalName: upload.originalname.slice(0, 255) || null,
      createdById: userId,
    });
    try {
      await this.media.insert(row);
    } catch (err) {
      await this.storage.remove(key);
      throw err;
    }
    this.logger.log(`media ${id}: ${mime}, ${upload.size} bytes, ${durationMs} ms, uploaded by user ${userId}`);
    return toMediaDto(row);
  }

  async createStream(dto: CreateStreamDto, userId: string): Promise<StreamDto> {
    const row = this.media.create({ kind: 'stream', title: dto.title, streamUrl: dto.url, createdById: userId });
    await this.media.insert(row);
    return toMediaDto(row) as StreamDto;
  }

  async list(query: ListMediaQueryDto): Promise<Page<MediaDto>> {
    const [rows, total] = await this.media.findAndCount({
      where: query.kind ? { kind: query.kind } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: query.skip,
      take: query.pageSize,
    });
    return pageOf(rows.map(toMediaDto), total, query);
  }

  async get(id: string): Promise<MediaDto> {
    return toMediaDto(await this.findOrFail(id));
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
