import { LoaApi } from './loa-api.js';
import { ensureCredentials, rekey, writeCredentials } from './credentials.js';
import { SimulatedSpeaker } from './speaker.js';

export interface FleetOptions {
  apiUrl: string;
  mqttUrl: string;
  username: string;
  password: string;
  count: number;
  /** Root of the area subtree; speakers are spread over its leaf areas. */
  area: string;
  prefix?: string;
  flaky?: boolean;
  /** New connections per second, so a big fleet does not arrive in one instant. */
  connectRate?: number;
  fleetFile?: string;
  log?: (line: string) => void;
}

export interface FleetStats {
  total: number;
  connected: number;
  heartbeatsSent: number;
  reconnects: number;
}

export interface Fleet {
  speakers: SimulatedSpeaker[];
  provisioned: number;
  stats(): FleetStats;
  /** Cuts the power of `n` connected speakers; returns their codes. */
  kill(n: number): string[];
  stop(): Promise<void>;
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const log = options.log ?? (() => undefined);
  const prefix = options.prefix ?? 'sim';
  const api = new LoaApi(options.apiUrl, options.username, options.password);
  await api.login();
  const areas = await api.leafAreas(options.area);
  const codes = Array.from({ length: options.count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  const fleetFile = options.fleetFile ?? 'devices-sim/.fleet.json';
  const { credentials, provisioned } = await ensureCredentials(api, codes, areas, fleetFile, log);
  // A refused secret means this fleet file belongs to another Loa database: re-key that speaker.
  const renewSecret = async (code: string) => {
    credentials[code] = await rekey(api, code, areas[codes.indexOf(code) % areas.length]);
    writeCredentials(fleetFile, credentials);
    log(`${code}: secret refused, re-keyed`);
    return credentials[code];
  };
  const speakers = codes.map(
    (code) =>
      new SimulatedSpeaker({ code, secret: credentials[code], mqttUrl: options.mqttUrl, flaky: options.flaky, renewSecret }),
  );
  const rate = options.connectRate ?? 200;
  let started = 0;
  const starter = setInterval(() => {
    const until = Math.min(speakers.length, started + Math.max(1, Math.round(rate / 10)));
    for (; started < until; started++) speakers[started].start();
    if (started >= speakers.length) clearInterval(starter);
  }, 100);
  log(`starting ${speakers.length} speaker(s) over ${areas.length} area(s) at ${rate}/s`);

  return {
    speakers,
    provisioned,
    stats: () => ({
      total: speakers.length,
      connected: speakers.filter((s) => s.connected).length,
      heartbeatsSent: speakers.reduce((n, s) => n + s.heartbeatsSent, 0),
      reconnects: speakers.reduce((n, s) => n + s.reconnects, 0),
    }),
    kill(n) {
      const victims = speakers.filter((s) => s.connected).slice(0, n);
      for (const speaker of victims) speaker.kill();
      return victims.map((s) => s.code);
    },
    async stop() {
      clearInterval(starter);
      await Promise.all(speakers.map((s) => s.stop()));
    },
  };
}
