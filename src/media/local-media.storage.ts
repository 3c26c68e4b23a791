import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { MediaStorage, type ByteRange } from './media-storage.js';

/** An upload older than this in the incoming folder was left by a process that died mid-upload. */
const STALE_INCOMING_MS = 24 * 3600_000;

/** Files under MEDIA_DIR: `<id[0..2]>/<id>`, uploads in progress under `.incoming/`. */
@Injectable()
export class LocalMediaStorage extends MediaStorage implements OnModuleInit {
  private readonly logger = new Logger(LocalMediaStorage.name);
  private readonly root: string;
  private readonly incomingDir: string;

  constructor(@Inject(AppConfig) config: AppConfig) {
    super();
    this.root = resolve(config.MEDIA_DIR);
    this.incomingDir = join(this.root, '.incoming');
  }

  async onModuleInit(): Promise<void> {
    await mkdir(this.incomingDir, { recursive: true });
    await this.sweepStaleIncoming();
  }

  incomingPath(): string {
    // No extension: nothing downstream may guess the format from a name.
    return join(this.incomingDir, randomUUID());
  }

  async write(incomingPath: string, id: string): Promise<string> {
    const key = `${id.slice(0, 2)}/${id}`;
    const target = this.pathOf(key);
    // Flushed before the rename, so a crash cannot leave an empty file under the final name.
    const file = await open(incomingPath, 'r');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(incomingPath, target);
    return key;
  }

  async discardIncoming(incomingPath: string): Promise<void> {
    await rm(incomingPath, { force: true });
  }

  openRead(key: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { bytes: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    return join(this.root, key);
  }

  private async sweepStaleIncoming(): Promise<void> {
    const cutoff = Date.now() - STALE_INCOMING_MS;
    for (const name of await readdir(this.incomingDir)) {
      const path = join(this.incomingDir, name);
      const s = await stat(path).catch(() => null);
      if (s && s.mtimeMs < cutoff) {
        await rm(path, { force: true });
        this.logger.warn(`removed an upload abandoned since ${s.mtime.toISOString()}: ${name}`);
      }
    }
  }
}
