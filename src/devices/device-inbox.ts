import { Injectable, Logger } from '@nestjs/common';
import type { CommandAck, PlaybackEvent } from '../broker/payloads.js';

/** What feature modules hear from devices, already validated by the gateway. */
export interface DeviceInboxListener {
  onAck?(code: string, ack: CommandAck): void;
  onPlaybackEvent?(code: string, event: PlaybackEvent): void;
  /** A heartbeat told which Schedule version the device holds. */
  onScheduleVersion?(code: string, version: number): void;
  /** The device opened a connection (possibly after being offline): time to resend what it missed. */
  onConnected?(code: string): void;
  /** The device was provisioned or moved to another area: area-wide broadcasts may now include it. */
  onPlaced?(deviceId: string): void;
}

/**
 * Hands validated device messages (and registry changes) to the features that care (commands, as-run log) without
 * the devices module depending on them. Listeners must not throw and must not block: they
 * run on the broker's path.
 */
@Injectable()
export class DeviceInbox {
  private readonly logger = new Logger(DeviceInbox.name);
  private readonly listeners: DeviceInboxListener[] = [];

  subscribe(listener: DeviceInboxListener): void {
    this.listeners.push(listener);
  }

  ack(code: string, ack: CommandAck): void {
    this.each('ack', (l) => l.onAck?.(code, ack));
  }

  playbackEvent(code: string, event: PlaybackEvent): void {
    this.each('playback event', (l) => l.onPlaybackEvent?.(code, event));
  }

  scheduleVersion(code: string, version: number): void {
    this.each('schedule version', (l) => l.onScheduleVersion?.(code, version));
  }

  connected(code: string): void {
    this.each('connect', (l) => l.onConnected?.(code));
  }

  placed(deviceId: string): void {
    this.each('placement', (l) => l.onPlaced?.(deviceId));
  }

  private each(what: string, call: (listener: DeviceInboxListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (err) {
        this.logger.error(`${what} listener failed: ${(err as Error).message}`);
      }
    }
  }
}
