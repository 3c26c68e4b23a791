const RATE = 8000;

/**
 * An 8 kHz, 8-bit mono PCM WAV of `durationMs`: small, and recognised by every audio probe.
 * `amplitudeAt(t)` gives the sample at `t` seconds, from -127 to 127.
 */
export function pcmWav(durationMs: number, amplitudeAt: (t: number) => number): Buffer {
  const samples = Math.round((RATE * durationMs) / 1000);
  const wav = Buffer.alloc(44 + samples);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(RATE, 24);
  wav.writeUInt32LE(RATE, 28); // bytes per second
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples, 40);
  for (let i = 0; i < samples; i++) wav[44 + i] = 128 + Math.round(amplitudeAt(i / RATE));
  return wav;
}
