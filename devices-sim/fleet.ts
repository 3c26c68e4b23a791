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
  /** Download and sha256-check each file before playing it (default false: 10,000 speakers fetching one file is a benchmark of its own). */
  downloadMedia?: boolean;
  /** Play this many times faster than real time (default 1). */
  playbackSpeed?: number;
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
  const { leaves: areas, pathOf } = await api.areaTree(options.area);
  const codes = Array.from({ length: options.count }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  const fleetFile = options.fleetFile ?? 'devices-sim/.fleet.json';
  const { credentials, provisioned } = await ensureCredentials(api, codes, areas, fleetFile, log);
  const areaOf = await placeSpeakers(api, options.area, prefix, codes, (i) => areas[i % areas.length], log);
  // A refused secret means this fleet file belongs to another Loa database: re-key that speaker.
  const renewSecret = async (code: string) => {
    credentials[code] = await rekey(api, code, areas[codes.indexOf(code) % areas.length]);
    writeCredentials(fleetFile, credentials);
    log(`${code}: secret refused, re-keyed`);
    return credentials[code];
  };
  const speakers = codes.map(
    (code) =>
      new SimulatedSpeaker({
        code,
        secret: credentials[code],
        mqttUrl: options.mqttUrl,
        areaCodes: pathOf.get(areaOf.get(code)!),
        flaky: options.flaky,
        renewSecret,
        downloadMedia: options.downloadMedia ?? false,
        playbackSpeed: options.playbackSpeed,
      }),
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

/**
 * A speaker listens to the command topics of its area and every ancestor, so it must know
 * where Loa placed it. A speaker of the fleet file found outside this subtree (an earlier run
 * used another --area) is moved into its leaf here, before it connects.
 */
async function placeSpeakers(
  api: LoaApi,
  root: string,
  prefix: string,
  codes: string[],
  intendedArea: (index: number) => string,
  log: (line: string) => void,
): Promise<Map<string, string>> {
  const areaOf = await api.deviceAreas(root, prefix);
  const strays = codes.map((code, index) => ({ code, areaCode: intendedArea(index) })).filter(({ code }) => !areaOf.has(code));
  let next = 0;
  const worker = async () => {
    while (next < strays.length) {
      const { code, areaCode } = strays[next++];
      const moved = await api.request('PATCH', `/api/v1/devices/${code}`, { areaCode });
      if (moved.status !== 200) throw new Error(`${code}: moving it to area ${areaCode} answered HTTP ${moved.status}`);
      areaOf.set(code, areaCode);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (strays.length) log(`moved ${strays.length} speaker(s) from outside area ${root} into it`);
  return areaOf;
}
