import { pcmWav } from '../../devices-sim/wav.js';
import type { TestApp } from './test-app.js';

/** A valid PCM WAV (8 kHz, mono, 8-bit) holding a 440 Hz tone of `durationMs`. */
export function aWav(durationMs = 2000): Buffer {
  return pcmWav(durationMs, (t) => 100 * Math.sin(2 * Math.PI * 440 * t));
}

export interface UploadedAudio {
  id: string;
  sha256: string;
  bytes: number;
  durationMs: number;
  mime: string;
}

/** Uploads a generated WAV through the API, as an operator would. */
export async function uploadAudio(t: TestApp, opts: { durationMs?: number; title?: string } = {}): Promise<UploadedAudio> {
  const req = t.http().post('/api/v1/media').set('Authorization', t.auth).attach('file', aWav(opts.durationMs), 'test.wav');
  const res = await (opts.title === undefined ? req : req.field('title', opts.title));
  if (res.status !== 201) throw new Error(`uploadAudio: ${res.status} ${JSON.stringify(res.body)}`);
  const { id, sha256, bytes, durationMs, mime } = res.body;
  return { id, sha256, bytes, durationMs, mime };
}
