import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { isISO8601, isUUID } from 'class-validator';
import { MAX_DEVICE_PAYLOAD_BYTES, type DeviceInboundChannel } from './topics.js';

/**
 * Payloads of the device protocol v1 and their schemas. Unknown fields are stripped, not
 * refused: the protocol lets newer firmware add optional fields, and an older Loa must keep
 * accepting them. An optional field may also be sent as null.
 *
 * Device payloads are checked with Ajv, which compiles each schema into one function, and
 * not with class-validator like the HTTP API's bodies: every speaker acks an emergency
 * within the same second, and class-validator took 10 µs per ack and 20 µs per heartbeat
 * (metadata looked up on every call), Ajv about a tenth of that. UUIDs and timestamps are
 * still judged by class-validator's own functions, so what is accepted did not change.
 */

export interface PlayingRef {
  occurrenceId: string;
}

export interface Heartbeat {
  seq: number;
  uptimeS?: number | null;
  volume?: number | null;
  rssi?: number | null;
  power?: 'mains' | 'battery' | null;
  battery?: number | null;
  temperatureC?: number | null;
  firmware?: string | null;
  scheduleVersion?: number | null;
  playing?: PlayingRef | null;
}

export const PLAYBACK_EVENT_TYPES = ['started', 'finished', 'failed', 'interrupted', 'skipped'] as const;

export interface PlaybackEvent {
  id: string;
  type: (typeof PLAYBACK_EVENT_TYPES)[number];
  occurrenceId: string;
  /** ISO 8601. */
  at: string;
  reason?: string | null;
}

export const COMMAND_ACK_STATUSES = ['ok', 'rejected', 'failed'] as const;

export interface CommandAck {
  commandId: string;
  status: (typeof COMMAND_ACK_STATUSES)[number];
  error?: string | null;
}

/** Retained on `devices/{code}/config`. */
export interface DeviceConfigPayload {
  heartbeatIntervalS: number;
  volume: number;
  timezone: string;
}

const uuid = { type: 'string', format: 'uuid' } as const;

const heartbeatSchema: JSONSchemaType<Heartbeat> = {
  type: 'object',
  properties: {
    seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    uptimeS: { type: 'integer', nullable: true, minimum: 0 },
    volume: { type: 'integer', nullable: true, minimum: 0, maximum: 100 },
    rssi: { type: 'number', nullable: true, minimum: -200, maximum: 0 },
    power: { type: 'string', nullable: true, enum: ['mains', 'battery', null] },
    battery: { type: 'number', nullable: true, minimum: 0, maximum: 100 },
    temperatureC: { type: 'number', nullable: true, minimum: -60, maximum: 150 },
    firmware: { type: 'string', nullable: true, maxLength: 64 },
    scheduleVersion: { type: 'integer', nullable: true, minimum: 0 },
    playing: { type: 'object', nullable: true, properties: { occurrenceId: uuid }, required: ['occurrenceId'] },
  },
  required: ['seq'],
};

const playbackEventSchema: JSONSchemaType<PlaybackEvent> = {
  type: 'object',
  properties: {
    id: uuid,
    type: { type: 'string', enum: PLAYBACK_EVENT_TYPES },
    occurrenceId: uuid,
    at: { type: 'string', format: 'iso8601' },
    reason: { type: 'string', nullable: true, maxLength: 500 },
  },
  required: ['id', 'type', 'occurrenceId', 'at'],
};

const commandAckSchema: JSONSchemaType<CommandAck> = {
  type: 'object',
  properties: {
    commandId: uuid,
    status: { type: 'string', enum: COMMAND_ACK_STATUSES },
    error: { type: 'string', nullable: true, maxLength: 500 },
  },
  required: ['commandId', 'status'],
};

const ajv = new Ajv({ removeAdditional: 'all' });
ajv.addFormat('uuid', { type: 'string', validate: (value: string) => isUUID(value) });
ajv.addFormat('iso8601', { type: 'string', validate: (value: string) => isISO8601(value, { strict: true }) });

const VALIDATORS = {
  heartbeat: ajv.compile(heartbeatSchema),
  events: ajv.compile(playbackEventSchema),
  acks: ajv.compile(commandAckSchema),
};

export interface InboundPayloads {
  heartbeat: Heartbeat;
  events: PlaybackEvent;
  acks: CommandAck;
}
export type InboundPayload<C extends DeviceInboundChannel> = InboundPayloads[C];

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
  const validate = VALIDATORS[channel];
  if (!validate(json)) return { ok: false, reason: `${channel}: ${describe(validate.errors?.[0])}` };
  return { ok: true, value: json as InboundPayload<C> };
}

/** `volume must be <= 100`, `playing/occurrenceId must match format "uuid"`, `must have required property 'seq'`. */
function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid';
  const at = error.instancePath.slice(1);
  return at ? `${at} ${error.message}` : (error.message ?? 'invalid');
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
