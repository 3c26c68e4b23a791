import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { MAX_DEVICE_PAYLOAD_BYTES, type DeviceInboundChannel } from './topics.js';

/**
 * Payloads of the device protocol v1, as classes that validate themselves. Unknown fields
 * are stripped, not refused: the protocol lets newer firmware add optional fields, and an
 * older Loa must keep accepting them.
 */

export class PlayingRef {
  @IsUUID()
  occurrenceId: string;
}

export class Heartbeat {
  @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  seq: number;

  @IsOptional() @IsInt() @Min(0)
  uptimeS?: number;

  @IsOptional() @IsInt() @Min(0) @Max(100)
  volume?: number;

  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-200) @Max(0)
  rssi?: number;

  @IsOptional() @IsIn(['mains', 'battery'])
  power?: 'mains' | 'battery';

  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(100)
  battery?: number;

  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-60) @Max(150)
  temperatureC?: number;

  @IsOptional() @IsString() @MaxLength(64)
  firmware?: string;

  @IsOptional() @IsInt() @Min(0)
  scheduleVersion?: number;

  @IsOptional() @IsObject() @ValidateNested() @Type(() => PlayingRef)
  playing?: PlayingRef;
}

export const PLAYBACK_EVENT_TYPES = ['started', 'finished', 'failed', 'interrupted', 'skipped'] as const;

export class PlaybackEvent {
  @IsUUID()
  id: string;

  @IsIn(PLAYBACK_EVENT_TYPES)
  type: (typeof PLAYBACK_EVENT_TYPES)[number];

  @IsUUID()
  occurrenceId: string;

  @IsISO8601({ strict: true })
  at: string;

  @IsOptional() @IsString() @MaxLength(500)
  reason?: string | null;
}

export const COMMAND_ACK_STATUSES = ['ok', 'rejected', 'failed'] as const;

export class CommandAck {
  @IsUUID()
  commandId: string;

  @IsIn(COMMAND_ACK_STATUSES)
  status: (typeof COMMAND_ACK_STATUSES)[number];

  @IsOptional() @IsString() @MaxLength(500)
  error?: string;
}

/** Retained on `devices/{code}/config`. */
export interface DeviceConfigPayload {
  heartbeatIntervalS: number;
  volume: number;
  timezone: string;
}

const PAYLOAD_CLASSES = { heartbeat: Heartbeat, events: PlaybackEvent, acks: CommandAck } as const;
export type InboundPayload<C extends DeviceInboundChannel> = InstanceType<(typeof PAYLOAD_CLASSES)[C]>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Turns raw bytes from a device into a validated payload, or says in a few words why not. */
export function parseInboundPayload<C extends DeviceInboundChannel>(
  channel: C,
  raw: Buffer,
): ParseResult<InboundPayload<C>> {
  if (raw.length > MAX_DEVICE_PAYLOAD_BYTES) return { ok: false, reason: `payload over ${MAX_DEVICE_PAYLOAD_BYTES} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  const value = plainToInstance(PAYLOAD_CLASSES[channel] as new () => InboundPayload<C>, json);
  const [error] = validateSync(value as object, { whitelist: true, stopAtFirstError: true });
  if (error) {
    const constraint = Object.values(error.constraints ?? {})[0] ?? describeNested(error.children);
    return { ok: false, reason: `${channel}: ${constraint}` };
  }
  return { ok: true, value };
}

function describeNested(children: { property: string; constraints?: Record<string, string> }[] | undefined): string {
  const child = children?.[0];
  return child ? `${child.property}: ${Object.values(child.constraints ?? {})[0] ?? 'invalid'}` : 'invalid';
}

/* ---- Loa → device ---- */

export const PRIORITIES = ['normal', 'high', 'emergency'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** A higher rank interrupts a lower one. */
export const PRIORITY_RANK: Record<Priority, number> = { normal: 0, high: 1, emergency: 2 };

/** An audio file the device downloads (and checks against sha256), or a live relay. */
export type MediaPayload =
  | { url: string; sha256: string; bytes: number; durationMs: number; mime: string }
  | { streamUrl: string };

export interface ScheduleItem {
  occurrenceId: string;
  broadcastId: string;
  startAt: string;
  priority: Priority;
  volume?: number;
  media: MediaPayload;
}

/** Retained on `devices/{code}/schedule`; `version` only grows. */
export interface SchedulePayload {
  version: number;
  generatedAt: string;
  timezone: string;
  items: ScheduleItem[];
}

export const COMMAND_TYPES = ['play', 'stop', 'set_volume', 'sync', 'reboot'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

interface CommandBase {
  id: string;
  issuedAt: string;
  expiresAt: string;
}
export interface PlayCommand extends CommandBase {
  type: 'play';
  occurrenceId: string;
  priority: Priority;
  media: MediaPayload;
  startAt?: string;
  volume?: number;
}
export interface StopCommand extends CommandBase {
  type: 'stop';
  occurrenceId?: string;
}
export interface SetVolumeCommand extends CommandBase {
  type: 'set_volume';
  volume: number;
}
export interface SyncCommand extends CommandBase {
  type: 'sync';
}
export interface RebootCommand extends CommandBase {
  type: 'reboot';
}
/** Sent on `devices/{code}/commands` or, area-wide, on `areas/{area}/commands`. */
export type CommandPayload = PlayCommand | StopCommand | SetVolumeCommand | SyncCommand | RebootCommand;
