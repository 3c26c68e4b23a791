import { Inject, Injectable, Logger } from '@nestjs/common';
import { TelemetryBuffer } from '../../devices/telemetry-buffer.service.js';

const LOG_EVERY_MS = 60_000;

/**
 * Playback events the as-run log refuses (unknown occurrence, another device's occurrence,
 * an unreadable time) count as rejected device messages, like the gateway's own drops, and
 * are logged once per device per minute so a misbehaving speaker cannot flood the log.
 */
@Injectable()
export class PlaybackRejections {
  private readonly logger = new Logger(PlaybackRejections.name);
  private readonly lastLogged = new Map<string, number>();

  constructor(@Inject(TelemetryBuffer) private readonly telemetry: TelemetryBuffer) {}

  reject(code: string, reason: string): void {
    this.telemetry.countRejected(code);
    const now = Date.now();
    if (now - (this.lastLogged.get(code) ?? 0) < LOG_EVERY_MS) return;
    if (this.lastLogged.size > 50_000) this.lastLogged.clear();
    this.lastLogged.set(code, now);
    this.logger.warn(`device ${code}: playback event dropped: ${reason} (further drops counted, logged again in 1 min)`);
  }
}
