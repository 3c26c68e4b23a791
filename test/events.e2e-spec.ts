import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { MqttClient } from 'mqtt';
import type { LiveEvent } from '../src/events/live-event.js';
import { LiveEvents } from '../src/events/live-events.service.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { aDevice, connect, deviceState, dropLink, type ProvisionedDevice } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { TestFirmware } from './support/firmware.js';
import { aUser } from './support/users.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A server-sent events reader over plain node:http, as a dashboard's fetch stream reads it. */
class EventStream {
  readonly frames: Frame[] = [];
  ended = false;
  private buffer = '';

  private constructor(readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.take(chunk));
    response.on('close', () => (this.ended = true));
  }

  /** Resolves once the response headers are in: from then on the server holds the subscription. */
  static open(t: TestApp, auth: string, opts: { lastEventId?: string; query?: string } = {}): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: auth, Accept: 'text/event-stream' };
      if (opts.lastEventId) headers['Last-Event-ID'] = opts.lastEventId;
      const req = httpRequest(`${t.apiUrl}/api/v1/events${opts.query ?? ''}`, { headers }, (res) => resolve(new EventStream(res)));
      req.on('error', reject);
      req.end();
    });
  }

  get events(): LiveEvent[] {
    return this.frames.filter((f) => f.data !== undefined && f.event !== 'reset').map((f) => JSON.parse(f.data!) as LiveEvent);
  }

  /** Events about these devices, in the order received. */
  about(...codes: string[]): LiveEvent[] {
    return this.events.filter((e) => codes.includes(e.data.deviceCode as string));
  }

  close(): void {
    this.response.destroy();
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: Frame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon) as 'id' | 'event' | 'data';
          frame[field] = line.slice(colon + 1).replace(/^ /, '');
        }
      }
      this.frames.push(frame);
    }
  }
}

const stateOf = (e: LiveEvent) => `${e.data.deviceCode as string}:${e.data.to as string}`;

describe('live events (GET /api/v1/events)', () => {
  let t: TestApp;
  let tree: { province: string; district: string; commune: string };
  let communePath: string;
  const streams: EventStream[] = [];
  const clients: MqttClient[] = [];
  const firmwares: TestFirmware[] = [];

  beforeAll(async () => {
    t = await startTestApp({ OFFLINE_GRACE_S: '1', LIVENESS_SWEEP_S: '1', EVENTS_KEEPALIVE_S: '1', EVENTS_RETAIN: '100' });
    tree = await anAreaTree(t);
    communePath = `/${tree.province}/${tree.district}/${tree.commune}/`;
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await Promise.all(firmwares.splice(0).map((f) => f.close().catch(() => undefined)));
  });
  afterAll(() => t.close());

  const open = async (auth = t.auth, opts: { lastEventId?: string; query?: string } = {}) => {
    const stream = await EventStream.open(t, auth, opts);
    streams.push(stream);
    return stream;
  };
  const link = async (device: ProvisionedDevice) => {
    const client = await connect(t, device.code, device.secret);
    clients.push(client);
    return client;
  };

  it('refuses a caller without a token', async () => {
    const res = await t.http().get('/api/v1/events');

    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'unauthorized' });
  });

  it('refuses a malformed Last-Event-ID', async () => {
    const header = await t.http().get('/api/v1/events').set('Authorization', t.auth).set('Last-Event-ID', 'yesterday');
    const query = await t.http().get('/api/v1/events?lastEventId=yesterday').set('Authorization', t.auth);

    expect(header.status).toBe(400);
    expect(query.status).toBe(400);
    expect(query.body).toMatchObject({ error: 'validation' });
  });

  it('streams with headers that keep proxies from buffering, and sends keep-alive comments', async () => {
    const stream = await open();

    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.response.headers['cache-control']).toMatch(/no-cache/);
    expect(stream.response.headers['x-accel-buffering']).toBe('no');
    await eventually(async () => stream.frames.some((f) => f.comment === 'keep-alive'));
  });

  it('shows a speaker going online when it connects and offline when its link drops', async () => {
    const stream = await open();
    const device = await aDevice(t, { areaCode: tree.commune, name: 'Loa chợ' });

    const client = await link(device);
    const online = await eventually(async () => stream.about(device.code).find((e) => e.data.to === 'online'));
    dropLink(client);
    const offline = await eventually(async () => stream.about(device.code).find((e) => e.data.to === 'offline'));

    expect(online).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      type: 'device.state',
      at: expect.any(String),
      areaPath: communePath,
      data: { deviceCode: device.code, name: 'Loa chợ', areaCode: tree.commune, from: 'unknown', to: 'online', cause: 'connected', at: expect.any(String) },
    });
    expect(offline.data).toMatchObject({ from: 'online', to: 'offline', cause: 'disconnected' });
    const frame = stream.frames.find((f) => f.id === offline.id);
    expect(frame).toMatchObject({ event: 'device.state' });
    expect(stream.about(device.code).map(stateOf)).toEqual([`${device.code}:online`, `${device.code}:offline`]);
  });

  it('gives a client resuming with Last-Event-ID exactly the events it missed, then live ones', async () => {
    const first = await aDevice(t, { areaCode: tree.commune });
    const second = await aDevice(t, { areaCode: tree.commune });
    const before = await open();
    const firstLink = await link(first);
    const seen = await eventually(async () => before.about(first.code).find((e) => e.data.to === 'online'));
    before.close();

    const secondLink = await link(second);
    dropLink(firstLink);
    await eventually(async () => (await deviceState(t, first.code)) === 'offline' && (await deviceState(t, second.code)) === 'online');
    const resumed = await open(t.auth, { lastEventId: seen.id });
    await eventually(async () => resumed.about(first.code, second.code).length >= 2);
    dropLink(secondLink);

    await eventually(async () => resumed.about(first.code, second.code).length >= 3);
    expect(resumed.about(first.code, second.code).map(stateOf)).toEqual([`${second.code}:online`, `${first.code}:offline`, `${second.code}:offline`]);
    const ids = resumed.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(resumed.frames.some((f) => f.event === 'reset')).toBe(false);
  });

  it('gives a client resuming while events pour in each event once, in order', async () => {
    const live = t.app.get(LiveEvents);
    let next = 0;
    const burst = (count: number) =>
      live.publish(Array.from({ length: count }, () => ({ type: 'alarm.cleared' as const, areaPath: null, data: { n: next++ } })));
    const numbered = (s: EventStream) => s.events.filter((e) => typeof e.data.n === 'number');
    const watcher = await open();
    await burst(20);
    const start = await eventually(async () => numbered(watcher).find((e) => e.data.n === 0));

    const pouring = (async () => {
      for (let i = 0; i < 30; i++) await burst(2);
    })();
    const resumed = await open(t.auth, { lastEventId: start.id });
    await pouring;

    await eventually(async () => numbered(watcher).length === 80 && numbered(resumed).length >= 79);
    expect(numbered(resumed).map((e) => e.id)).toEqual(numbered(watcher).slice(1).map((e) => e.id));
  });

  it('resumes from ?lastEventId= for clients that cannot set the header', async () => {
    const device = await aDevice(t, { areaCode: tree.commune });
    const before = await open();
    const client = await link(device);
    const seen = await eventually(async () => before.about(device.code).find((e) => e.data.to === 'online'));
    before.close();

    dropLink(client);
    await eventually(async () => (await deviceState(t, device.code)) === 'offline');
    const resumed = await open(t.auth, { query: `?lastEventId=${seen.id}` });

    await eventually(async () => resumed.about(device.code).length >= 1);
    expect(resumed.about(device.code).map(stateOf)).toEqual([`${device.code}:offline`]);
  });

  it('shows a speaker’s events to an operator of its district and not to one of another district', async () => {
    const elsewhere = await anAreaTree(t);
    const ours = await aUser(t, 'operator', tree.district);
    const theirs = await aUser(t, 'operator', elsewhere.district);
    const ourStream = await open(ours.auth);
    const theirStream = await open(theirs.auth);
    const device = await aDevice(t, { areaCode: tree.commune });
    const marker = await aDevice(t, { areaCode: elsewhere.commune });

    await link(device);
    await eventually(async () => ourStream.about(device.code).length === 1);
    await link(marker);

    // Their stream is in order, so once it has the later marker event it would have had ours.
    await eventually(async () => theirStream.about(marker.code).length === 1);
    expect(theirStream.about(device.code)).toEqual([]);
    expect(ourStream.about(marker.code)).toEqual([]);
    expect(theirStream.events.every((e) => e.areaPath?.startsWith(`/${elsewhere.province}/${elsewhere.district}/`))).toBe(true);
  });

  it('announces the ack of a command issued through the API', async () => {
    const stream = await open();
    const device = await aDevice(t, { areaCode: tree.commune });
    const speaker = await TestFirmware.online(t, device, [tree.province, tree.district, tree.commune], { autoAck: true });
    firmwares.push(speaker);

    const issued = await t.http().post(`/api/v1/devices/${device.code}/commands`).set('Authorization', t.auth).send({ type: 'set_volume', volume: 40 }).expect(202);

    const ack = await eventually(async () => stream.events.find((e) => e.type === 'command.ack' && e.data.commandId === issued.body.id));
    expect(ack).toMatchObject({ areaPath: communePath, data: { deviceCode: device.code, commandId: issued.body.id, type: 'set_volume', status: 'ok' } });
  });

  it('reports delivery progress of a now broadcast per occurrence and area', async () => {
    const stream = await open();
    const device = await aDevice(t, { areaCode: tree.commune });
    const speaker = await TestFirmware.online(t, device, [tree.province, tree.district, tree.commune], { autoAck: true });
    firmwares.push(speaker);
    const bulletin = await anApprovedBulletin(t, { category: 'disaster' });

    const res = await t
      .http()
      .post('/api/v1/broadcasts')
      .set('Authorization', t.auth)
      .send({ bulletinId: bulletin.id, targets: { areaCodes: [tree.commune] }, schedule: { kind: 'now' }, priority: 'emergency', expiresInS: 30 })
      .expect(201);
    const occurrenceId: string = res.body.occurrences[0].id;
    const progressOf = (status: string) =>
      stream.events.find(
        (e) =>
          e.type === 'delivery.progress' &&
          e.data.occurrenceId === occurrenceId &&
          (e.data.deliveries as { deviceCode: string; status: string }[]).some((d) => d.deviceCode === device.code && d.status === status),
      );
    const delivered = await eventually(async () => progressOf('delivered'));
    await speaker.report('started', occurrenceId);

    await eventually(async () => progressOf('started'));
    expect(delivered).toMatchObject({ areaPath: communePath, data: { occurrenceId, broadcastId: res.body.id } });
  });

  it('answers an id whose successors are no longer kept with a reset, then live events', async () => {
    const device = await aDevice(t, { areaCode: tree.commune });
    const live = t.app.get(LiveEvents);
    // EVENTS_RETAIN is 100 here: enough filler pushes the oldest events out of the stream.
    for (let i = 0; i < 5; i++) await live.publish(Array.from({ length: 100 }, (_, n) => ({ type: 'alarm.cleared' as const, areaPath: null, data: { filler: i * 100 + n } })));

    const stream = await open(t.auth, { lastEventId: '1-0' });
    await link(device);

    await eventually(async () => stream.about(device.code).length === 1);
    const reset = stream.frames[0];
    expect(reset.event).toBe('reset');
    expect(JSON.parse(reset.data!)).toEqual({ id: reset.id, type: 'reset', at: expect.any(String), areaPath: null, data: { lastEventId: '1-0' } });
    expect(stream.events.some((e) => e.data.filler !== undefined)).toBe(false);
  });

  it('answers an id from after the newest event with a reset', async () => {
    const stream = await open(t.auth, { lastEventId: `${Date.now() + 86_400_000}-0` });

    await eventually(async () => stream.frames.find((f) => f.event === 'reset'));
  });
});

describe('live events at shutdown', () => {
  it('ends open streams so the app closes', async () => {
    const t = await startTestApp();
    const stream = await EventStream.open(t, t.auth);

    await t.close();

    await eventually(async () => stream.ended);
  });
});
