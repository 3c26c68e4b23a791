import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';

interface PublishLike {
  cmd: string;
  topic?: unknown;
  payload?: unknown;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  properties?: unknown;
}
type WriteToStream = ((packet: PublishLike, stream: Writable, opts?: { protocolVersion?: number }) => boolean) & { cacheNumbers?: boolean };
/** The part of mqtt-packet's module object this file uses. */
export interface MqttPacket {
  writeToStream: WriteToStream;
  generate(packet: PublishLike): Buffer;
}

/** A publish encoded once (message id 0); each delivery copies it and sets its own id. */
interface Template {
  topic: string;
  flags: number;
  bytes: Buffer;
  idOffset: number;
}

/**
 * Plays being fanned out at once are few; more entries would only keep old payloads alive.
 * A retained Schedule delivered once to a reconnecting speaker passes through and is evicted.
 */
const TEMPLATES = 16;
const PUBACK = 0x40;

/**
 * Aedes writes every packet with mqtt-packet's `writeToStream`, which corks the socket, makes
 * six small writes for a publish (header, length, topic length, topic, message id, payload)
 * or three for a PUBACK, and uncorks on the next tick. An emergency is the same publish to
 * every speaker but for its message id, and every speaker's ack is answered with a PUBACK:
 * on the broker's sockets those two are now written whole, as one buffer each. The bytes
 * are mqtt-packet's own (`generate`), so the encoding is the library's; only the stream
 * machinery per packet goes. Measured with 5,000 clients taking a play and acking it: about
 * 10 % less broker CPU per fan-out (bench/RESULTS.md, 2026-12-04 experiments).
 *
 * The patch is on mqtt-packet's shared module object, the one Aedes calls at each write,
 * and takes the short path only for sockets registered here: other users of the library in
 * the process (mqtt.js clients in tests) and every other packet go through it unchanged.
 */
export class WholePacketWrites {
  private readonly sockets = new WeakSet<Writable>();
  /** Keyed by the payload buffer: every delivery of one publish shares it. */
  private readonly templates = new Map<Buffer, Template>();

  constructor(private readonly mqtt: MqttPacket = aedesMqttPacket()) {
    this.install();
  }

  /** Registers one of the broker's sockets. */
  register(socket: Writable): void {
    this.sockets.add(socket);
  }

  private install(): void {
    const original = this.mqtt.writeToStream;
    const writeToStream: WriteToStream = (packet, stream, opts) => {
      if (this.sockets.has(stream) && !(opts?.protocolVersion && opts.protocolVersion > 4)) {
        const whole = this.encode(packet);
        if (whole) return stream.write(whole);
      }
      return original(packet, stream, opts);
    };
    // mqtt.js switches the library's number cache through this property.
    Object.defineProperty(writeToStream, 'cacheNumbers', {
      get: () => original.cacheNumbers,
      set: (value: boolean) => (original.cacheNumbers = value),
    });
    this.mqtt.writeToStream = writeToStream;
  }

  /** The packet as one buffer, or null to leave it to the library (anything but a plain publish or PUBACK). */
  encode(packet: PublishLike): Buffer | null {
    if (packet.cmd === 'puback') {
      if (!isMessageId(packet.messageId)) return null;
      return Buffer.from([PUBACK, 2, packet.messageId >> 8, packet.messageId & 0xff]);
    }
    if (packet.cmd !== 'publish' || packet.properties !== undefined) return null;
    const { topic, payload } = packet;
    const qos = packet.qos ?? 0;
    if (typeof topic !== 'string' || !topic || !Buffer.isBuffer(payload) || (qos !== 0 && qos !== 1)) return null;
    if (qos === 1 && !isMessageId(packet.messageId)) return null;
    const template = this.template(topic, payload, qos, !!packet.retain, !!packet.dup);
    if (qos === 0) return template.bytes;
    const bytes = Buffer.allocUnsafe(template.bytes.length);
    template.bytes.copy(bytes);
    bytes.writeUInt16BE(packet.messageId!, template.idOffset);
    return bytes;
  }

  private template(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean, dup: boolean): Template {
    const flags = qos | (retain ? 4 : 0) | (dup ? 8 : 0);
    const cached = this.templates.get(payload);
    if (cached && cached.topic === topic && cached.flags === flags) return cached;
    const bytes = this.mqtt.generate({ cmd: 'publish', topic, payload, qos, retain, dup, ...(qos ? { messageId: 0 } : {}) });
    const template = { topic, flags, bytes, idOffset: bytes.length - payload.length - 2 };
    this.templates.delete(payload);
    if (this.templates.size >= TEMPLATES) this.templates.delete(this.templates.keys().next().value!);
    this.templates.set(payload, template);
    return template;
  }
}

function isMessageId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xffff;
}

/** The mqtt-packet module Aedes itself loads, wherever npm has placed it. */
export function aedesMqttPacket(): MqttPacket {
  const require = createRequire(import.meta.url);
  return createRequire(require.resolve('aedes'))('mqtt-packet') as MqttPacket;
}

let shared: WholePacketWrites | null = null;

/** The process's one instance, so that brokers booted in one process (tests, the cluster tests' two) wrap the library once. */
export function brokerPacketWrites(): WholePacketWrites {
  return (shared ??= new WholePacketWrites());
}
