import { parseFile, type IAudioMetadata } from 'music-metadata';

export interface ProbedAudio {
  mime: string;
  durationMs: number;
}

export type ProbeResult = { ok: true; audio: ProbedAudio } | { ok: false; reason: string };

/**
 * Recognises an audio file the speakers can play by parsing its content (never by its
 * name or the client's mime type), and reads its duration.
 */
export async function probeAudio(path: string, bytes: number): Promise<ProbeResult> {
  let metadata: IAudioMetadata;
  try {
    // `path` has no extension, so music-metadata picks its parser from the bytes alone.
    metadata = await parseFile(path, { duration: true, skipCovers: true });
  } catch {
    return { ok: false, reason: 'the file is not audio in a supported format, or it is corrupt' };
  }
  const { format } = metadata;
  const mime = mimeOf(format.container, format.codec);
  if (!mime) {
    const found = [format.container, format.codec].filter(Boolean).join(' ');
    return { ok: false, reason: `unsupported audio${found ? ` (${found})` : ''}: send MP3, WAV (PCM), Ogg Opus/Vorbis or M4A (AAC)` };
  }
  const truncation = truncationOf(metadata, bytes);
  if (truncation) return { ok: false, reason: `the file is truncated: ${truncation}` };
  const durationMs = Math.round((format.duration ?? Number.NaN) * 1000);
  if (!Number.isFinite(durationMs) || durationMs <= 0) {
    return { ok: false, reason: 'the duration of the audio cannot be determined' };
  }
  return { ok: true, audio: { mime, durationMs } };
}

/** music-metadata names an MP4 container by its brands, e.g. `M4A/isom/iso2`. */
const MP4_BRANDS = /^(M4A|M4B|isom|iso\d|mp4\d|dash)\b/;

function mimeOf(container: string | undefined, codec: string | undefined): string | null {
  if (container === 'WAVE' && codec === 'PCM') return 'audio/wav';
  if (container === 'MPEG' && codec?.endsWith('Layer 3')) return 'audio/mpeg';
  if (container === 'Ogg' && (codec === 'Opus' || codec?.startsWith('Vorbis'))) return 'audio/ogg';
  if (container && MP4_BRANDS.test(container) && codec === 'MPEG-4/AAC') return 'audio/mp4';
  return null;
}

/**
 * Where the parser tolerates a cut-off file, the signs it leaves. A truncated M4A or
 * Vorbis file fails to parse at all; a truncated VBR MP3 is indistinguishable from a
 * shorter one and is accepted with the duration its header states.
 */
function truncationOf({ format, quality }: IAudioMetadata, bytes: number): string | null {
  const warnings = quality.warnings.map((w) => w.message);
  if (warnings.some((w) => w.startsWith('data chunk length exceeding file length'))) return 'WAV data ends early';
  if (warnings.some((w) => w.startsWith('End-of-stream reached before reaching last page'))) return 'Ogg stream ends early';
  // A constant-bitrate MP3 must hold bitrate × duration bytes (5 % slack for headers and rounding).
  if (format.container === 'MPEG' && format.codecProfile === 'CBR' && format.bitrate && format.duration) {
    const expected = (format.bitrate * format.duration) / 8;
    if (bytes < expected * 0.95) return `MP3 holds ${bytes} of about ${Math.round(expected)} bytes`;
  }
  return null;
}
