import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFleet, type Fleet } from '../devices-sim/fleet.js';
import { backoffMs } from '../devices-sim/speaker.js';
import { anAreaTree } from './support/factories.js';
import { ADMIN, eventually, startTestApp, type TestApp } from './support/test-app.js';

describe('devices-sim, the reference client', () => {
  let t: TestApp;
  let province: string;
  const fleets: Fleet[] = [];
  const fleetFile = join(mkdtempSync(join(tmpdir(), 'loa-sim-')), 'fleet.json');

  beforeAll(async () => {
    t = await startTestApp({ HEARTBEAT_INTERVAL_S: '1', OFFLINE_GRACE_S: '1', LIVENESS_SWEEP_S: '1' });
    ({ province } = await anAreaTree(t));
  });
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.stop()));
    await t.close();
  });

  const fleet = async (count: number) => {
    const started = await startFleet({
      apiUrl: t.apiUrl,
      mqttUrl: t.mqttUrl,
      username: ADMIN.username,
      password: ADMIN.password,
      count,
      area: province,
      prefix: 'simtest',
      fleetFile,
      connectRate: 50,
    });
    fleets.push(started);
    return started;
  };
  const devices = async (state: string) =>
    (await t.http().get(`/api/v1/devices?state=${state}&areaCode=${province}&pageSize=500`).set('Authorization', t.auth).expect(200)).body;

  it('provisions its speakers in the leaf areas, connects them, and they heartbeat per the retained config', async () => {
    const sim = await fleet(5);

    expect(sim.provisioned).toBe(5);
    await eventually(async () => (await devices('online')).total === 5);
    await eventually(async () => sim.speakers.every((s) => s.config?.heartbeatIntervalS === 1 && s.heartbeatsSent >= 2));
    const online = await devices('online');
    expect(online.items.every((d: { telemetry: { firmware?: string } | null }) => d.telemetry?.firmware === '1.4.2')).toBe(true);
    expect(new Set(online.items.map((d: { areaCode: string }) => d.areaCode)).size).toBe(1);
    expect(Object.keys(JSON.parse(readFileSync(fleetFile, 'utf8')))).toHaveLength(5);
  });

  it('shows a speaker whose power is cut as offline within grace + one sweep', async () => {
    const [sim] = fleets;

    const [victim] = sim.kill(1);

    await eventually(async () => (await devices('offline')).items.some((d: { code: string }) => d.code === victim), 5000);
    expect((await devices('online')).total).toBe(4);
  });

  it('reuses the secrets of its fleet file on the next start', async () => {
    await fleets.shift()!.stop();

    const again = await fleet(5);

    expect(again.provisioned).toBe(0);
    await eventually(async () => again.stats().connected === 5);
    await eventually(async () => (await devices('online')).total === 5);
  });

  it('backs off 1 s doubling to 5 min with ±50% jitter', () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 0.999999)).toBe(1500);
    expect(backoffMs(3, () => 0.5)).toBe(8000);
    expect(backoffMs(20, () => 0.5)).toBe(300_000);
  });
});
