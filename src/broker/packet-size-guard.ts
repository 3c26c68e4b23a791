import type { Client } from 'aedes';

/**
 * Largest MQTT packet a device may send. Payloads over 16 KiB are dropped and counted with
 * the connection kept (the protocol's rule); a packet over this bound is not worth reading
 * at all: it closes the connection.
 */
export const MAX_PACKET_BYTES = 64 * 1024;

export class PacketTooLargeError extends Error {}

interface PacketParser {
  packet: { length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * mqtt-packet buffers a packet whole before Aedes sees it, whatever length its header
 * announces, so one device could make the broker hold hundreds of megabytes. Aedes offers no
 * limit; this checks the announced length the moment the parser has read it, before any of
 * the body is buffered.
 *
 * It reaches into the client's private parser: `guardPacketSize` returns false when that
 * parser no longer looks as expected, so a dependency upgrade that moves it is loud.
 */
export function guardPacketSize(client: Client, maxBytes = MAX_PACKET_BYTES): boolean {
  const parser = (client as unknown as { _parser?: Partial<PacketParser> })._parser;
  if (!parser || typeof parser._parseLength !== 'function' || typeof parser._emitError !== 'function') return false;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: PacketParser) {
    const complete = parseLength.call(this);
    if (complete && this.packet.length > maxBytes) {
      this._emitError(new PacketTooLargeError(`packet of ${this.packet.length} bytes exceeds ${maxBytes}`));
      return false;
    }
    return complete;
  };
  return true;
}
