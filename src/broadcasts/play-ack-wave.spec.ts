import { randomUUID } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { DeviceInbox } from '../devices/device-inbox.js';
import { ACK_LULL_MS, ACK_WAVE_MAX_MS, PlayAckWave } from './play-ack-wave.js';

function aWave() {
  const inbox = new DeviceInbox();
  const waves = new PlayAckWave(inbox);
  waves.onModuleInit();
  const commandId = randomUUID();
  const ack = (id = commandId) => inbox.ack('spk-1', { commandId: id, status: 'ok' });
  return { waves, commandId, ack };
}

/*
 * Every interval below is measured from a Date.now() read no later than the one the wave
 * itself takes (before `watch`, before an ack), never from when a test timer was due: Node
 * dates a timer from the event loop's cached clock, so against Date.now() it can fire a
 * millisecond or more early. A bound measured from a timer's due time failed CI once that way
 * (999 ms against ≥ 1,000).
 */
describe(PlayAckWave.name, () => {
  it('ebbs once no ack of the play has come for the lull, however many came before', async () => {
    const { waves, commandId, ack } = aWave();
    const watchedAt = Date.now();
    const wave = waves.watch(commandId);
    let lastAckAt = 0;
    const acking = setInterval(() => {
      lastAckAt = Date.now();
      ack();
    }, 100);
    setTimeout(() => clearInterval(acking), 750);

    await wave.ebbed;
    const ebbedAt = Date.now();

    // Acks every 100 ms went on past the first lull's end and held the wave open...
    expect(lastAckAt - watchedAt).toBeGreaterThan(ACK_LULL_MS);
    // ...until one lull after the last of them.
    expect(ebbedAt - lastAckAt).toBeGreaterThanOrEqual(ACK_LULL_MS);
    expect(ebbedAt - lastAckAt).toBeLessThan(ACK_LULL_MS + 200);
  });

  it('ebbs after the lull when no ack comes at all, and acks of other commands do not hold it', async () => {
    const { waves, commandId, ack } = aWave();
    const watchedAt = Date.now();
    const wave = waves.watch(commandId);
    const other = setInterval(() => ack(randomUUID()), 50);

    await wave.ebbed;
    const took = Date.now() - watchedAt;
    clearInterval(other);

    expect(took).toBeGreaterThanOrEqual(ACK_LULL_MS);
    expect(took).toBeLessThan(ACK_LULL_MS + 200);
  });

  it('does not take a blocked event loop for silence: acks read after the block still count', async () => {
    const { waves, commandId, ack } = aWave();
    const started = Date.now();
    const wave = waves.watch(commandId);
    let ackAt: number | undefined;

    // As while Aedes hands a play to thousands of sockets, one setImmediate each: the lull's
    // timer comes due meanwhile, and the acks already sent are read only after it has run.
    setImmediate(() => {
      while (Date.now() - started < 2 * ACK_LULL_MS) {
        /* busy */
      }
      setImmediate(() => {
        ackAt = Date.now();
        ack();
      });
    });
    await wave.ebbed;
    const ebbedAt = Date.now();

    // Taking the late timer for silence would end the wave before the ack was even read.
    expect(ackAt).toBeDefined();
    expect(ebbedAt - ackAt!).toBeGreaterThanOrEqual(ACK_LULL_MS);
  });

  it('reads the acks already sent before it calls a lull, when a busy loop frees up just after the lull was due', async () => {
    // A real socket, as from a speaker: what it sent while the loop was busy is read only in
    // the loop's next poll, which comes after the timers.
    const { waves, commandId, ack } = aWave();
    let ackReadAt: number | undefined;
    const { server, speaker } = await aSocketPair((received) => received.on('data', () => {
      ackReadAt ??= Date.now();
      ack();
    }));
    try {
      const started = Date.now();
      const wave = waves.watch(commandId);
      setImmediate(() => {
        speaker.write('ack');
        // Ends past the lull's due time, but by less than a timer's lateness that says "busy".
        while (Date.now() - started < ACK_LULL_MS + 20) {
          /* busy */
        }
      });
      await wave.ebbed;
      const ebbedAt = Date.now();

      expect(ackReadAt).toBeDefined();
      expect(ebbedAt - ackReadAt!).toBeGreaterThanOrEqual(ACK_LULL_MS);
    } finally {
      speaker.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('gives up waiting once the play has been out for the longest wave, acks or not', async () => {
    const { waves, commandId, ack } = aWave();
    const watchedAt = Date.now();
    const wave = waves.watch(commandId);
    const acking = setInterval(() => ack(), 50);

    await wave.ebbed;
    const took = Date.now() - watchedAt;
    clearInterval(acking);

    expect(took).toBeGreaterThanOrEqual(ACK_WAVE_MAX_MS);
    expect(took).toBeLessThan(ACK_WAVE_MAX_MS + 300);
  });
});

/** A listening server and a client connected to it; `onAccept` gets the server's side. */
async function aSocketPair(onAccept: (received: Socket) => void): Promise<{ server: Server; speaker: Socket }> {
  const server = createServer(onAccept);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const speaker = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((r) => speaker.once('connect', r));
  return { server, speaker };
}
