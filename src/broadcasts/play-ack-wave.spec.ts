import { randomUUID } from 'node:crypto';
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

/** Milliseconds from now until `promise` settles. */
async function timeOf(promise: Promise<unknown>): Promise<number> {
  const from = Date.now();
  await promise;
  return Date.now() - from;
}

describe(PlayAckWave.name, () => {
  it('ebbs once no ack of the play has come for the lull, however many came before', async () => {
    const { waves, commandId, ack } = aWave();
    const wave = waves.watch(commandId);
    const acking = setInterval(() => ack(), 100);
    setTimeout(() => clearInterval(acking), 800);

    const took = await timeOf(wave.ebbed);

    expect(took).toBeGreaterThanOrEqual(700 + ACK_LULL_MS);
    expect(took).toBeLessThan(800 + ACK_LULL_MS + 200);
  });

  it('ebbs after the lull when no ack comes at all, and acks of other commands do not hold it', async () => {
    const { waves, commandId, ack } = aWave();
    const wave = waves.watch(commandId);
    const other = setInterval(() => ack(randomUUID()), 50);

    const took = await timeOf(wave.ebbed);
    clearInterval(other);

    expect(took).toBeGreaterThanOrEqual(ACK_LULL_MS);
    expect(took).toBeLessThan(ACK_LULL_MS + 200);
  });

  it('does not take a blocked event loop for silence: acks read after the block still count', async () => {
    const { waves, commandId, ack } = aWave();
    const started = Date.now();
    const wave = waves.watch(commandId);

    // As while Aedes hands a play to thousands of sockets, one setImmediate each: the lull's
    // timer comes due meanwhile, and the acks already sent are read only after it has run.
    setImmediate(() => {
      while (Date.now() - started < 2 * ACK_LULL_MS) {
        /* busy */
      }
      setImmediate(() => ack());
    });
    await wave.ebbed;

    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * ACK_LULL_MS);
  });

  it('gives up waiting once the play has been out for the longest wave, acks or not', async () => {
    const { waves, commandId, ack } = aWave();
    const wave = waves.watch(commandId);
    const acking = setInterval(() => ack(), 50);

    const took = await timeOf(wave.ebbed);
    clearInterval(acking);

    expect(took).toBeGreaterThanOrEqual(ACK_WAVE_MAX_MS - 10);
    expect(took).toBeLessThan(ACK_WAVE_MAX_MS + 300);
  });
});
