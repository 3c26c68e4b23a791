import type { TestApp } from './test-app.js';

const WAV_RATE = 8000;

/** A valid PCM WAV (8 kHz, mono, 8-bit) holding a 440 Hz tone of `durationMs`. */
export function aWav(durationMs = 2000): Buffer {
  const samples = Math.round((WAV_RATE * durationMs) / 1000);
  const wav = Buffer.alloc(44 + samples);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(WAV_RATE, 24);
  wav.writeUInt32LE(WAV_RATE, 28); // byte rate
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples, 40);
  for (let i = 0; i < samples; i++) wav[44 + i] = 128 + Math.round(100 * Math.sin((2 * Math.PI * 440 * i) / WAV_RATE));
  return wav;
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
