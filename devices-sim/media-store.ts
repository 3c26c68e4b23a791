import { createHash } from 'node:crypto';
import type { MediaPayload } from '../src/broker/payloads.js';

/**
 * The speaker's local media storage, as far as a simulation needs it: each file is
 * downloaded once (keyed by sha256, since the signed URL changes with every schedule) and
 * checked against its sha256 before it may play. Only the verdict is kept, not the bytes.
 */
export class MediaStore {
  private readonly verdicts = new Map<string, Promise<string | null>>();
  downloads = 0;

  /** Resolves null when the media is stored and intact, or why it cannot play. Streams need nothing. */
  ready(media: MediaPayload): Promise<string | null> {
    if (!('url' in media)) return Promise.resolve(null);
    const key = media.sha256.toLowerCase();
    let verdict = this.verdicts.get(key);
    if (!verdict) {
      verdict = this.download(media.url, key);
      this.verdicts.set(key, verdict);
      // A failure is not remembered: the next play or schedule tries again.
      verdict.then((failure) => failure && this.verdicts.delete(key));
    }
    return verdict;
  }

  private async download(url: string, sha256: string): Promise<string | null> {
    this.downloads++;
    try {
      const res = await fetch(url);
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return `download failed: HTTP ${res.status}`;
      }
      const hash = createHash('sha256');
      for await (const chunk of res.body) hash.update(chunk);
      const actual = hash.digest('hex');
      return actual === sha256 ? null : `sha256 mismatch: expected ${sha256}, got ${actual}`;
    } catch (err) {
      return `download failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
