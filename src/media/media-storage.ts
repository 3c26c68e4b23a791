import type { Readable } from 'node:stream';

/** A byte range, both ends inclusive, as HTTP Range counts them. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where audio bytes live. Uploads are first written to an incoming path on the same
 * filesystem, then moved into the store whole, so a key never names a half-written file.
 */
export abstract class MediaStorage {
  /** A fresh local path for an upload in progress; nothing exists there yet. */
  abstract incomingPath(): string;

  /** Moves a complete incoming file into the store as media `id` and returns its key. */
  abstract write(incomingPath: string, id: string): Promise<string>;

  /** Deletes an incoming file that will not be kept; no error if it is already gone. */
  abstract discardIncoming(incomingPath: string): Promise<void>;

  abstract openRead(key: string, range?: ByteRange): Readable;

  /** Null when the key holds nothing. */
  abstract stat(key: string): Promise<{ bytes: number } | null>;

  /** No error if the key holds nothing. */
  abstract remove(key: string): Promise<void>;
}
