import { parseArgs } from 'node:util';
import { startDemoBroadcast, type DemoBroadcast } from './demo-broadcast.js';
import { startFleet, type Fleet } from './fleet.js';
import { LoaApi } from './loa-api.js';

const HELP = `loa devices-sim: a fleet of simulated speakers speaking the Loa device protocol

  npm run sim -- --count 200 --area 06 [options]

  --count N        speakers to run (default 40)
  --area CODE      area subtree to place them in (default 06)
  --api URL        Loa HTTP API (default $LOA_API_URL or http://127.0.0.1:3000)
  --mqtt URL       Loa MQTT broker (default $LOA_MQTT_URL or mqtt://127.0.0.1:1883)
  --username U     admin used to provision (default $ADMIN_USERNAME or admin)
  --password P     its password (default $ADMIN_PASSWORD)
  --prefix P       device code prefix (default sim): sim-00001, sim-00002, …
  --rate N         new connections per second (default 200)
  --fleet-file F   where secrets are kept between runs (default devices-sim/.fleet.json)
  --flaky          drop links at random and let the back-off restore them
  --media MODE     download: fetch each file and check its sha256 before playing (default
                   up to 1000 speakers); skip: play without fetching (default above that)
  --playback-speed X  play X times faster than real time (default 1)
  --demo-broadcast once the fleet is online, upload a chime, approve a bulletin of it and
                   broadcast it to --area every 2 minutes; print what the speakers play
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '40' },
      area: { type: 'string', default: '06' },
      api: { type: 'string', default: process.env.LOA_API_URL ?? 'http://127.0.0.1:3000' },
      mqtt: { type: 'string', default: process.env.LOA_MQTT_URL ?? 'mqtt://127.0.0.1:1883' },
      username: { type: 'string', default: process.env.ADMIN_USERNAME ?? 'admin' },
      password: { type: 'string', default: process.env.ADMIN_PASSWORD ?? '' },
      prefix: { type: 'string', default: 'sim' },
      rate: { type: 'string', default: '200' },
      'fleet-file': { type: 'string', default: 'devices-sim/.fleet.json' },
      flaky: { type: 'boolean', default: false },
      media: { type: 'string' },
      'playback-speed': { type: 'string', default: '1' },
      'demo-broadcast': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const count = Number(values.count);
  const rate = Number(values.rate);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${values.count}`);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate must be positive, got ${values.rate}`);
  const media = values.media ?? (count <= 1000 ? 'download' : 'skip');
  if (media !== 'download' && media !== 'skip') throw new Error(`--media must be download or skip, got ${media}`);
  const playbackSpeed = Number(values['playback-speed']);
  if (!(playbackSpeed > 0)) throw new Error(`--playback-speed must be positive, got ${values['playback-speed']}`);
  if (!values.password) throw new Error('--password (or ADMIN_PASSWORD) is required to provision devices');

  const log = (line: string) => console.log(`[sim] ${line}`);
  const fleet = await startFleet({
    apiUrl: values.api,
    mqttUrl: values.mqtt,
    username: values.username,
    password: values.password,
    count,
    area: values.area,
    prefix: values.prefix,
    flaky: values.flaky,
    connectRate: rate,
    fleetFile: values['fleet-file'],
    downloadMedia: media === 'download',
    playbackSpeed,
    log,
  });

  let demo: DemoBroadcast | null = null;
  let last = fleet.stats();
  const status = setInterval(() => {
    const now = fleet.stats();
    const rate = ((now.heartbeatsSent - last.heartbeatsSent) / 10).toFixed(1);
    log(`${now.connected}/${now.total} connected, ${rate} heartbeats/s, ${now.reconnects} reconnects`);
    if (demo) log(demo.summary());
    last = now;
  }, 10_000);
  const shutdown = async (signal: string) => {
    clearInterval(status);
    log(`${signal}: disconnecting ${fleet.speakers.length} speaker(s)`);
    await fleet.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (values['demo-broadcast']) {
    await mostlyOnline(fleet, 60_000);
    const api = new LoaApi(values.api, values.username, values.password);
    // The fleet is worth watching even when the demo broadcast cannot be set up.
    demo = await startDemoBroadcast(api, fleet, values.area, { log }).catch((err: unknown) => {
      log(`demo broadcast not started: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    });
  }
}

/** Waits until 90% of the fleet is connected (a flaky one always has a few links down), or the deadline. */
async function mostlyOnline(fleet: Fleet, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (fleet.stats().connected < 0.9 * fleet.speakers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
}

main().catch((err: unknown) => {
  console.error(`[sim] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
