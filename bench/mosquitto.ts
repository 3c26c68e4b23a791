/** Mosquitto from the Debian package, on a free port, anonymous: the raw-broker reference. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, spawnWithFileLimit, stopProcess, waitFor } from './support.js';

export const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface MosquittoBroker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `queuedPerClient`: a subscriber that collects every device's ack needs far more than the default 1000. */
export async function startMosquitto(queuedPerClient = 1000): Promise<MosquittoBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      `max_queued_messages ${queuedPerClient}`,
      'max_connections -1',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = spawnWithFileLimit(MOSQUITTO, ['-c', config], {}, '[mosquitto]', () => true);
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor(
    'Mosquitto listening',
    async () => {
      const probe = await mqtt.connectAsync(url, { clientId: 'bench-probe', reconnectPeriod: 0, connectTimeout: 1000 });
      await probe.endAsync();
      return true;
    },
    10_000,
    200,
  );
  return {
    url,
    pid: child.pid!,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
