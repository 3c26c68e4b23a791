/**
 * Loa device protocol v1: topic names and the per-device access rules, in one place.
 * The broker hooks, the gateway, the simulator and the tests all import this module;
 * docs/device-protocol.md describes the same table.
 */

export const TOPIC_PREFIX = 'loa/v1';

/** Device codes: the protocol's `^[a-z0-9][a-z0-9-]{2,63}$`. */
export const DEVICE_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{2,63}$/;

/** Largest payload Loa accepts from a device. */
export const MAX_DEVICE_PAYLOAD_BYTES = 16 * 1024;

export const DEVICE_INBOUND_CHANNELS = ['heartbeat', 'events', 'acks'] as const;
export type DeviceInboundChannel = (typeof DEVICE_INBOUND_CHANNELS)[number];

export const DEVICE_OUTBOUND_CHANNELS = ['commands', 'schedule', 'config'] as const;
export type DeviceOutboundChannel = (typeof DEVICE_OUTBOUND_CHANNELS)[number];

const DEVICES_PREFIX = `${TOPIC_PREFIX}/devices/`;

export const deviceTopic = (code: string, channel: DeviceInboundChannel | DeviceOutboundChannel) =>
  `${DEVICES_PREFIX}${code}/${channel}`;

export const areaCommandsTopic = (areaCode: string) => `${TOPIC_PREFIX}/areas/${areaCode}/commands`;

/** What the broker knows about a connected device when it checks its access. */
export interface DeviceAccess {
  code: string;
  /** The device's own area and every ancestor of it, root first. */
  areaCodes: readonly string[];
}

const SLASH = 0x2f;

/**
 * The channel a device may publish on, or null when the topic is not one of its own
 * inbound topics (another device's, a wildcard, `$SYS`, anything else). It runs for every
 * message every speaker sends (an emergency to 10,000 speakers brings 10,000 acks within a
 * second or two), so it compares in place instead of splitting the topic.
 */
export function inboundChannelOf(access: DeviceAccess, topic: string): DeviceInboundChannel | null {
  const start = DEVICES_PREFIX.length + access.code.length + 1;
  if (!topic.startsWith(DEVICES_PREFIX) || !topic.startsWith(access.code, DEVICES_PREFIX.length) || topic.charCodeAt(start - 1) !== SLASH) {
    return null;
  }
  for (const channel of DEVICE_INBOUND_CHANNELS) {
    if (topic.length === start + channel.length && topic.endsWith(channel)) return channel;
  }
  return null;
}

/**
 * A device may subscribe to its own commands, schedule and config, and to the command
 * topic of its area and each ancestor. Exact topics only: any wildcard is refused.
 */
export function maySubscribe(access: DeviceAccess, topicFilter: string): boolean {
  if (topicFilter.includes('+') || topicFilter.includes('#')) return false;
  const parts = topicFilter.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return false;
  const [, , kind, id, channel] = parts;
  if (kind === 'devices') {
    return id === access.code && (DEVICE_OUTBOUND_CHANNELS as readonly string[]).includes(channel);
  }
  if (kind === 'areas') return channel === 'commands' && access.areaCodes.includes(id);
  return false;
}
