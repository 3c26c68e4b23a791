import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { aDevice, connect, deviceState, dropLink } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';
import { aUser } from './support/users.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A receiver as a province's NOC would run it. Each path answers with its own script of
 * status codes (the last one repeats); `/ok` always answers 204.
 */
async function aReceiver(scripts: Record<string, number[]>): Promise<{ url: (path: string) => string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const served = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const script = scripts[path] ?? [204];
      const n = served.get(path) ?? 0;
      served.set(path, n + 1);
      res.statusCode = script[Math.min(n, script.length - 1)];
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('alarm webhooks', () => {
  let t: TestApp;
  let receiver: Awaited<ReturnType<typeof aReceiver>>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    receiver = await aReceiver({ '/flaky': [500, 500, 200], '/down': [500] });
    t = await startTestApp({
      OFFLINE_GRACE_S: '1',
      LIVENESS_SWEEP_S: '1',
      ALARM_SWEEP_S: '1',
      ALARM_OFFLINE_AFTER_S: '1',
      ALARM_CLEAR_AFTER_S: '3',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '50',
      WEBHOOK_TIMEOUT_MS: '2000',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  const aWebhook = async (body: object) =>
    (await t.http().post('/api/v1/webhooks').set('Authorization', t.auth).send(body).expect(201)).body as {
      id: string;
      secret: string;
    };

  const deliveriesOf = async (webhookId: string, status?: string) =>
    (await t.http().get(`/api/v1/webhooks/${webhookId}/deliveries${status ? `?status=${status}` : ''}`).set('Authorization', t.auth).expect(200)).body
      .items as { id: string; eventType: string; status: string; attempts: number; lastStatus: number | null; lastError: string | null }[];

  /** A speaker in `areaCode` connects, then loses its link; its alarm opens a second later. */
  const aSpeakerGoesDark = async (areaCode: string) => {
    const speaker = await aDevice(t, { areaCode });
    const client = await connect(t, speaker.code, speaker.secret);
    clients.push(client);
    await eventually(async () => (await deviceState(t, speaker.code)) === 'online');
    dropLink(client);
    return speaker;
  };

  const bodiesAt = (path: string) => receiver.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

  it('is managed by admins only; its secret is shown once and its URL must be http(s)', async () => {
    const { district } = await anAreaTree(t);
    const operator = await aUser(t, 'operator', district);

    await t.http().post('/api/v1/webhooks').set('Authorization', operator.auth).send({ url: receiver.url('/ok') }).expect(403);
    const refused = await t.http().post('/api/v1/webhooks').set('Authorization', t.auth).send({ url: 'ftp://noc.example.vn/x' }).expect(400);
    await t.http().post('/api/v1/webhooks').set('Authorization', t.auth).send({ url: receiver.url('/ok'), events: ['device.state'] }).expect(400);
    await t.http().post('/api/v1/webhooks').set('Authorization', t.auth).send({ url: receiver.url('/ok'), areaCode: 'nosuch' }).expect(400);
    const created = await t.http().post('/api/v1/webhooks').set('Authorization', t.auth).send({ url: receiver.url('/ok'), areaCode: district, enabled: false }).expect(201);
    const read = await t.http().get(`/api/v1/webhooks/${created.body.id}`).set('Authorization', t.auth).expect(200);
    const patched = await t.http().patch(`/api/v1/webhooks/${created.body.id}`).set('Authorization', t.auth).send({ events: ['alarm.cleared'], areaCode: null }).expect(200);
    await t.http().delete(`/api/v1/webhooks/${created.body.id}`).set('Authorization', t.auth).expect(204);

    expect(refused.body.error).toBe('validation');
    expect(created.body).toEqual({
      id: expect.any(String),
      url: receiver.url('/ok'),
      events: ['alarm.opened', 'alarm.acknowledged', 'alarm.cleared'],
      areaCode: district,
      enabled: false,
      secret: expect.stringMatching(/^[\w-]{43}$/),
      createdAt: expect.any(String),
    });
    expect(read.body).not.toHaveProperty('secret');
    expect(patched.body).toMatchObject({ events: ['alarm.cleared'], areaCode: null, enabled: false });
    await t.http().get(`/api/v1/webhooks/${created.body.id}`).set('Authorization', t.auth).expect(404);
  });

  it('delivers a signed alarm only to the webhooks whose area holds the speaker', async () => {
    const north = await anAreaTree(t);
    const south = await anAreaTree(t);
    const northHook = await aWebhook({ url: receiver.url('/north'), areaCode: north.province, events: ['alarm.opened'] });
    const southHook = await aWebhook({ url: receiver.url('/south'), areaCode: south.province, events: ['alarm.opened'] });

    const northSpeaker = await aSpeakerGoesDark(north.commune);
    const southSpeaker = await aSpeakerGoesDark(south.commune);
    const [delivered] = await eventually(async () => {
      const rows = await deliveriesOf(northHook.id, 'delivered');
      return rows.length ? rows : null;
    });
    await eventually(async () => (await deliveriesOf(southHook.id, 'delivered')).length === 1);

    const [request] = receiver.received.filter((r) => r.path === '/north');
    const timestamp = request.headers['x-loa-timestamp'] as string;
    const expected = `sha256=${createHmac('sha256', northHook.secret).update(`${timestamp}.${request.body}`).digest('hex')}`;
    const signature = request.headers['x-loa-signature'] as string;
    expect(signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'x-loa-event': 'alarm.opened',
      'x-loa-delivery': delivered.id,
    });
    expect(JSON.parse(request.body)).toEqual({
      id: expect.any(String),
      type: 'alarm.opened',
      at: expect.any(String),
      data: expect.objectContaining({ deviceCode: northSpeaker.code, areaCode: north.commune, state: 'open' }),
    });
    expect(delivered).toMatchObject({ eventType: 'alarm.opened', attempts: 1, lastStatus: 204, lastError: null });
    expect(bodiesAt('/north').map((b) => b.data.deviceCode)).toEqual([northSpeaker.code]);
    expect(bodiesAt('/south').map((b) => b.data.deviceCode)).toEqual([southSpeaker.code]);
  });

  it('retries a failing receiver with the same request until it answers 2xx', async () => {
    const { province, commune } = await anAreaTree(t);
    const hook = await aWebhook({ url: receiver.url('/flaky'), areaCode: province, events: ['alarm.opened'] });

    await aSpeakerGoesDark(commune);
    const [delivery] = await eventually(async () => {
      const rows = await deliveriesOf(hook.id, 'delivered');
      return rows.length ? rows : null;
    });

    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200, lastError: null });
    const attempts = receiver.received.filter((r) => r.path === '/flaky');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
    expect(attempts.every((a) => a.headers['x-loa-delivery'] === delivery.id)).toBe(true);
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS and keeps the delivery as a dead letter', async () => {
    const { province, commune } = await anAreaTree(t);
    const hook = await aWebhook({ url: receiver.url('/down'), areaCode: province, events: ['alarm.opened'] });

    await aSpeakerGoesDark(commune);
    const [dead] = await eventually(async () => {
      const rows = await deliveriesOf(hook.id, 'dead');
      return rows.length ? rows : null;
    });

    expect(dead).toMatchObject({ status: 'dead', attempts: 3, lastStatus: 500, lastError: 'HTTP 500' });
    expect(receiver.received.filter((r) => r.path === '/down')).toHaveLength(3);
    expect(await deliveriesOf(hook.id, 'pending')).toEqual([]);
  });
});
