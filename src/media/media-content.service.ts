import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { parseByteRange } from './byte-range.js';
import { MediaStorage } from './media-storage.js';
import { MediaService } from './media.service.js';

/** A response for the content route: status, headers and, except for a 416, the bytes. */
export interface MediaContent {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  body: Readable | null;
}

/** Serves the bytes of an audio file, whole or one byte range, so a device can resume a download. */
@Injectable()
export class MediaContentService {
  private readonly logger = new Logger(MediaContentService.name);

  constructor(
    @Inject(MediaService) private readonly media: MediaService,
    @Inject(MediaStorage) private readonly storage: MediaStorage,
  ) {}

  /** `principal`: the operator asking, whose scope applies; absent for a device's signed link. */
  async open(id: string, rangeHeader: string | undefined, principal?: Principal): Promise<MediaContent> {
    const media = principal ? await this.media.findInScope(id, principal) : await this.media.findOrFail(id);
    if (media.kind !== 'file' || !media.storageKey) throw new NotFoundException(`media ${id} is a stream and has no content`);
    const stored = await this.storage.stat(media.storageKey);
    if (!stored) {
      this.logger.error(`media ${id}: its file ${media.storageKey} is missing from storage`);
      throw new NotFoundException(`the content of media ${id} is missing`);
    }
    const size = stored.bytes;
    const common = { 'Accept-Ranges': 'bytes', ETag: `"${media.sha256}"`, 'Cache-Control': 'private, max-age=86400, immutable' };
    const range = parseByteRange(rangeHeader, size);
    if (range === 'unsatisfiable') {
      return { status: 416, headers: { ...common, 'Content-Range': `bytes */${size}` }, body: null };
    }
    const headers = { ...common, 'Content-Type': media.mime!, 'Content-Disposition': 'inline' };
    if (!range) {
      return { status: 200, headers: { ...headers, 'Content-Length': String(size) }, body: this.storage.openRead(media.storageKey) };
    }
    return {
      status: 206,
      headers: {
        ...headers,
        'Content-Length': String(range.end - range.start + 1),
        'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
      },
      body: this.storage.openRead(media.storageKey, range),
    };
  }
}
