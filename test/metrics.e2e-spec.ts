import { deviceTopic } from '../src/broker/topics.js';
import { MetricsController } from '../src/metrics/metrics.controller.js';
import { QUEUES } from '../src/queues/queues.js';
import { anApprovedBulletin } from './support/bulletins.js';
import { aDevice, connect, publish } from './support/devices.js';
import { anAreaTree } from './support/factories.js';
import { eventually, startTestApp, type TestApp } from './support/test-app.js';

/** One sample of the Prometheus text format: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe(MetricsController.name, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseSamples(res.text);
  }

  it('serves process metrics without a token when METRICS_TOKEN is unset', async () => {
    const samples = await scrape();

    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts a connected speaker, its messages and its state', async () => {
    const { commune } = await anAreaTree(t);
    const device = await aDevice(t, { areaCode: commune });
    const before = await scrape();
    const client = await connect(t, device.code, device.secret);

    await publish(client, deviceTopic(device.code, 'heartbeat'), JSON.stringify({ seq: 1 }));

    try {
      const during = await scrape();
      expect(valueOf(during, 'loa_mqtt_connected_clients')).toBe(1);
      expect(valueOf(during, 'loa_mqtt_messages_received_total')).toBe(valueOf(before, 'loa_mqtt_messages_received_total')! + 1);
      await eventually(async () => valueOf(await scrape(), 'loa_devices', { state: 'online' }) === 1);
    } finally {
      await client.endAsync();
    }
    await eventually(async () => valueOf(await scrape(), 'loa_mqtt_connected_clients') === 0);
  });

  it("counts what Loa publishes, such as a new speaker's retained config", async () => {
    const before = valueOf(await scrape(), 'loa_mqtt_messages_sent_total')!;
    const { commune } = await anAreaTree(t);

    await aDevice(t, { areaCode: commune });

    const after = await scrape();
    expect(valueOf(after, 'loa_mqtt_messages_sent_total')).toBeGreaterThan(before);
    expect(valueOf(after, 'loa_devices', { state: 'unknown' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'loa_devices', { state: 'offline' })).toBe(0);
  });

  it('reports the jobs of every queue by state', async () => {
    const samples = await scrape();

    for (const queue of Object.values(QUEUES)) {
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
        expect(valueOf(samples, 'loa_queue_jobs', { queue, state })).toEqual(expect.any(Number));
      }
    }
  });

  it('observes how long an immediate broadcast took from its due time to its play command', async () => {
    const { commune } = await anAreaTree(t);
    await aDevice(t, { areaCode: commune });
    const bulletin = await anApprovedBulletin(t);
    const before = valueOf(await scrape(), 'loa_dispatch_latency_seconds_count') ?? 0;

    await t
      .http()
      .post('/api/v1/broadcasts')
      .set('Authorization', t.auth)
      .send({ bulletinId: bulletin.id, targets: { areaCodes: [commune] }, schedule: { kind: 'now' }, priority: 'emergency' })
      .expect(201);

    const after = await scrape();
    expect(valueOf(after, 'loa_dispatch_latency_seconds_count')).toBe(before + 1);
    expect(valueOf(after, 'loa_dispatch_latency_seconds_bucket', { le: '+Inf' })).toBe(before + 1);
  });
});

describe(`${MetricsController.name} with METRICS_TOKEN`, () => {
  const token = 'scrape-token-0123456789';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: token });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('serves the metrics to a scraper presenting the token', async () => {
    const res = await t.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);

    expect(valueOf(parseSamples(res.text), 'loa_mqtt_connected_clients')).toBe(0);
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer scrape-token-0123456780'],
    ['a prefix of the token', 'Bearer scrape-token'],
    ["an operator's JWT", 'admin'],
  ])('refuses %s with 401', async (_what, header) => {
    const req = t.http().get('/metrics');
    if (header) req.set('Authorization', header === 'admin' ? t.auth : header);

    const res = await req.expect(401);

    expect(res.body.error).toBe('unauthorized');
  });
});
