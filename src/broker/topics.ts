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

export const deviceTopic = (code: string, channel: DeviceInboundChannel | DeviceOutboundChannel) =>
  `${TOPIC_PREFIX}/devices/${code}/${channel}`;

export const areaCommandsTopic = (areaCode: string) => `${TOPIC_PREFIX}/areas/${areaCode}/commands`;

/** What the broker knows about a connected device when it checks its access. */
export interface DeviceAccess {
  code: string;
  /** The device's own area and every ancestor of it, root first. */
  areaCodes: readonly string[];
}

/**
 * The channel a device may publish on, or null when the topic is not one of its own
 * inbound topics (another device's, a wildcard, `$SYS`, anything else).
 */
export function inboundChannelOf(access: DeviceAccess, topic: string): DeviceInboundChannel | null {
  const parts = topic.split('/');
  if (parts.length !== 5) return null;
  const [root, version, kind, code, channel] = parts;
  if (`${root}/${version}` !== TOPIC_PREFIX || kind !== 'devices' || code !== access.code) return null;
  return (DEVICE_INBOUND_CHANNELS as readonly string[]).includes(channel)
    ? (channel as DeviceInboundChannel)
    : null;
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
