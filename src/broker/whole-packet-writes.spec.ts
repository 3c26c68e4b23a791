import { PassThrough, Writable } from 'node:stream';
import { aedesMqttPacket, WholePacketWrites, type MqttPacket } from './whole-packet-writes.js';

type Packet = Parameters<WholePacketWrites['encode']>[0];
const library = aedesMqttPacket();
const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

/** A copy of the module object, so that installing the patch leaves the process's library alone. */
const libraryCopy = (): MqttPacket => ({ writeToStream: library.writeToStream, generate: library.generate });

/** The bytes the library itself writes for a packet. */
async function libraryBytes(packet: Packet): Promise<Buffer> {
  const sink = new PassThrough();
  library.writeToStream(packet, sink);
  await nextTick(); // it uncorks on the next tick
  sink.end();
  const chunks: Buffer[] = [];
  for await (const chunk of sink) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Records each write call a stream receives, so a test can tell one whole write from several. */
class RecordingSocket extends Writable {
  readonly writes: Buffer[][] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.writes.push([chunk]);
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.writes.push(chunks.map((c) => c.chunk));
    done();
  }
}

const play = Buffer.from(JSON.stringify({ id: '0b7c7d0e-8f57-4a0b-9d38-5e6c2f6c8a11', type: 'play', priority: 'emergency' }));

describe('whole packet writes', () => {
  it.each<[string, Packet]>([
    ['a QoS 1 play', { cmd: 'publish', topic: 'loa/v1/areas/99/commands', payload: play, qos: 1, retain: false, dup: false, messageId: 1 }],
    ['the largest message id', { cmd: 'publish', topic: 'loa/v1/areas/99/commands', payload: play, qos: 1, messageId: 65535 }],
    ['message id 0', { cmd: 'publish', topic: 'loa/v1/areas/99/commands', payload: play, qos: 1, messageId: 0 }],
    ['a retained Schedule', { cmd: 'publish', topic: 'loa/v1/devices/d-0001/schedule', payload: play, qos: 1, retain: true, messageId: 7 }],
    ['a re-sent (dup) publish', { cmd: 'publish', topic: 'loa/v1/devices/d-0001/commands', payload: play, qos: 1, dup: true, messageId: 300 }],
    ['a QoS 0 publish', { cmd: 'publish', topic: 'loa/v1/devices/d-0001/commands', payload: play, qos: 0 }],
    ['an empty retained payload (a clear)', { cmd: 'publish', topic: 'loa/v1/devices/d-0001/config', payload: Buffer.alloc(0), qos: 1, retain: true, messageId: 2 }],
    ['a two-byte remaining length', { cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 1, messageId: 9 }],
    ['a three-byte remaining length', { cmd: 'publish', topic: 't', payload: Buffer.alloc(20_000, 2), qos: 1, messageId: 9 }],
    ['a topic with multi-byte characters', { cmd: 'publish', topic: 'loa/v1/xã/Hòa Bình/commands', payload: play, qos: 1, messageId: 42 }],
    ['a PUBACK', { cmd: 'puback', messageId: 513 }],
  ])('encodes %s exactly as mqtt-packet does', async (_name, packet) => {
    const writes = new WholePacketWrites(libraryCopy());

    expect(writes.encode(packet)).toEqual(await libraryBytes(packet));
  });

  it('gives each delivery of one payload its own message id, leaving earlier ones as they were', async () => {
    const writes = new WholePacketWrites(libraryCopy());
    const packet = (messageId: number): Packet => ({ cmd: 'publish', topic: 'loa/v1/areas/99/commands', payload: play, qos: 1, messageId });

    const first = Buffer.from(writes.encode(packet(1))!);
    const firstAgain = writes.encode(packet(1))!;
    const second = writes.encode(packet(2))!;
    const onAnotherTopic = writes.encode({ ...packet(3), topic: 'loa/v1/areas/9901/commands' })!;

    expect(firstAgain).toEqual(first);
    expect(second).toEqual(await libraryBytes(packet(2)));
    expect(onAnotherTopic).toEqual(await libraryBytes({ ...packet(3), topic: 'loa/v1/areas/9901/commands' }));
    expect(writes.encode({ ...packet(4), retain: true })).toEqual(await libraryBytes({ ...packet(4), retain: true }));
    expect(first).toEqual(await libraryBytes(packet(1)));
  });

  it('leaves to the library what it does not write whole', () => {
    const writes = new WholePacketWrites(libraryCopy());

    expect(writes.encode({ cmd: 'publish', topic: 't', payload: play, qos: 2, messageId: 1 })).toBeNull();
    expect(writes.encode({ cmd: 'publish', topic: 't', payload: 'a string', qos: 1, messageId: 1 })).toBeNull();
    expect(writes.encode({ cmd: 'publish', topic: 't', payload: play, qos: 1 })).toBeNull();
    expect(writes.encode({ cmd: 'publish', topic: 't', payload: play, qos: 1, messageId: 70_000 })).toBeNull();
    expect(writes.encode({ cmd: 'publish', topic: '', payload: play, qos: 0 })).toBeNull();
    expect(writes.encode({ cmd: 'publish', topic: 't', payload: play, qos: 0, properties: {} })).toBeNull();
    expect(writes.encode({ cmd: 'puback' })).toBeNull();
    expect(writes.encode({ cmd: 'suback', messageId: 1 })).toBeNull();
  });

  it('writes a registered socket’s publish in one write, and other streams as the library does', async () => {
    const mqtt = libraryCopy();
    const writes = new WholePacketWrites(mqtt);
    const broker = new RecordingSocket();
    const other = new RecordingSocket();
    writes.register(broker);
    const packet: Packet = { cmd: 'publish', topic: 'loa/v1/areas/99/commands', payload: play, qos: 1, messageId: 5 };

    mqtt.writeToStream(packet, broker);
    mqtt.writeToStream(packet, other);
    mqtt.writeToStream({ ...packet, properties: { userProperties: { a: 'b' } } }, broker, { protocolVersion: 5 });
    await nextTick();

    const expected = await libraryBytes(packet);
    expect(broker.writes[0]).toEqual([expected]);
    expect(other.writes).toHaveLength(1);
    expect(other.writes[0].length).toBeGreaterThan(1);
    expect(Buffer.concat(other.writes[0])).toEqual(expected);
    expect(broker.writes[1].length).toBeGreaterThan(1); // MQTT 5 is the library's
    expect(library.writeToStream).not.toBe(mqtt.writeToStream);
  });

  it('passes the library’s number-cache switch through', () => {
    const mqtt = libraryCopy();
    const original = mqtt.writeToStream;
    new WholePacketWrites(mqtt); // wraps the copy's writeToStream
    const before = original.cacheNumbers;

    mqtt.writeToStream.cacheNumbers = false;
    expect(original.cacheNumbers).toBe(false);
    mqtt.writeToStream.cacheNumbers = before;
    expect(original.cacheNumbers).toBe(before);
  });
});
