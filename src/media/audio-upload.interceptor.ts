import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BadRequestException,
  HttpException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Observable } from 'rxjs';
import { AppConfig } from '../config/app-config.js';
import { MediaStorage } from './media-storage.js';

/** The upload as the route handler receives it: on disk at `path`, already hashed. */
export interface ReceivedAudio {
  path: string;
  size: number;
  sha256: string;
  originalname: string;
}

/** The multer file as a storage engine sees it (we do not depend on @types/multer). */
interface IncomingFile {
  stream: Readable;
  originalname: string;
  path?: string;
}
type EngineCallback = (err: Error | null, info?: Partial<ReceivedAudio>) => void;

/**
 * multer storage engine: streams the file to an incoming path of the media storage,
 * hashing and counting as it goes, so even a large upload never sits in memory.
 */
class IncomingAudioEngine {
  private readonly writers = new WeakMap<IncomingFile, WriteStream>();

  constructor(private readonly storage: MediaStorage) {}

  _handleFile(_req: IncomingMessage, file: IncomingFile, callback: EngineCallback): void {
    const path = this.storage.incomingPath();
    // Set before writing: multer removes what a file's `path` names when the request fails.
    file.path = path;
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const out = createWriteStream(path, { flags: 'wx' });
    this.writers.set(file, out);
    pipeline(file.stream, meter, out).then(
      () => callback(null, { path, size, sha256: hash.digest('hex') }),
      async (err: Error) => {
        // multer must hear back whatever happens; a file left behind is swept at the next boot.
        await this.discard(file, path).catch(() => undefined);
        callback(err);
      },
    );
  }

  _removeFile(_req: IncomingMessage, file: IncomingFile, callback: (err: Error | null) => void): void {
    if (!file.path) return callback(null);
    this.discard(file, file.path).then(() => callback(null), callback);
  }

  /** Waits for the descriptor to close first: a file opened after its unlink would outlive it. */
  private async discard(file: IncomingFile, path: string): Promise<void> {
    const out = this.writers.get(file);
    if (out && !out.closed) {
      await new Promise<void>((resolve) => {
        out.once('close', resolve);
        out.destroy();
      });
    }
    await this.storage.discardIncoming(path);
  }
}

/**
 * Receives the multipart field `file` into media storage's incoming area, enforcing
 * MEDIA_MAX_BYTES while it streams. multer removes the partial file when the request is
 * cut off or over the limit; the route handler owns it afterwards.
 */
@Injectable()
export class AudioUploadInterceptor implements NestInterceptor {
  private readonly multer: NestInterceptor;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(MediaStorage) storage: MediaStorage,
  ) {
    const Multer = FileInterceptor('file', {
      storage: new IncomingAudioEngine(storage),
      // Browsers send a file name's UTF-8 bytes as they are; busboy would read them as latin1.
      defParamCharset: 'utf8',
      limits: { fileSize: config.MEDIA_MAX_BYTES, files: 1, fields: 10, fieldSize: 4096, parts: 12 },
    });
    this.multer = new Multer();
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    try {
      return await this.multer.intercept(context, next);
    } catch (err) {
      throw this.asUploadError(err);
    }
  }

  private asUploadError(err: unknown): unknown {
    if (err instanceof PayloadTooLargeException) {
      return new PayloadTooLargeException({ error: 'too-large', message: `the file is over ${this.config.MEDIA_MAX_BYTES} bytes` });
    }
    if (err instanceof HttpException) return err;
    // The client went away or broke off the body: the status hardly reaches anyone, but it is not ours.
    return new BadRequestException({ error: 'incomplete-upload', message: (err as Error).message });
  }
}
