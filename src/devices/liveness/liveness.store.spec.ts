import { randomBytes } from 'node:crypto';
import { AppConfig } from '../../config/app-config.js';
import { RedisService } from '../../redis/redis.module.js';
import { LivenessStore, type LivenessTransition } from './liveness.store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const connId = (ms: number) => `${String(ms).padStart(15, '0')}-${randomBytes(3).toString('hex')}`;

/** The liveness state machine, run as it runs in production: Lua in a real Redis. */
describe(LivenessStore.name, () => {
  let redis: RedisService;
  let store: LivenessStore;

  beforeAll(() => {
    const config = Object.assign(new AppConfig(), {
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `loatest_live_${randomBytes(4).toString('hex')}`,
      HEARTBEAT_INTERVAL_S: 1,
      OFFLINE_GRACE_S: 1,
    });
    redis = new RedisService(config);
    store = new LivenessStore(redis, config);
  });

  afterAll(async () => {
    const keys = await redis.client.keys(`${redis.prefix}:*`);
    if (keys.length) await redis.client.del(...keys);
    await redis.onApplicationShutdown();
  });

  const code = () => `dev-${randomBytes(4).toString('hex')}`;
  const transitionsOf = async (device: string): Promise<LivenessTransition[]> =>
    (await store.takeTransitions(10_000)).filter((t) => t.code === device);

  it('puts a speaker online when it connects, once', async () => {
    const device = code();

    expect(await store.connected(device, connId(1))).toBe(true);
    expect(await store.connected(device, connId(2))).toBe(false);

    const [transition, ...rest] = await transitionsOf(device);
    expect(transition).toMatchObject({ from: 'unknown', to: 'online', cause: 'connected' });
    expect(rest).toEqual([]);
  });

  it('marks a speaker offline once its link has been down for the grace period', async () => {
    const device = code();
    const id = connId(1);
    await store.connected(device, id);
    await store.takeTransitions(10_000);

    const disconnectedAt = Date.now();
    expect(await store.disconnected(device, id)).toBe(true);
    await store.sweep();
    expect(await transitionsOf(device)).toEqual([]);
    await sleep(1200);
    await store.sweep();

    const [offline] = await transitionsOf(device);
    expect(offline).toMatchObject({ from: 'online', to: 'offline', cause: 'disconnected' });
    expect(offline.at).toBeGreaterThanOrEqual(disconnectedAt + 1000 - 50);
    expect(offline.at).toBeLessThan(disconnectedAt + 1000 + 500);
  });

  it('does not flap when a speaker reconnects within the grace period', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await store.disconnected(device, connId(1));

    await store.connected(device, connId(2));
    await sleep(1200);
    await store.sweep();

    const transitions = await transitionsOf(device);
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['unknown->online']);
  });

  it('ignores the disconnect of a connection that a newer one has taken over', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await store.connected(device, connId(2));

    expect(await store.disconnected(device, connId(1))).toBe(false);
    await sleep(1200);
    await store.sweep();

    expect((await transitionsOf(device)).map((t) => t.to)).toEqual(['online']);
  });

  it('ignores a connect older than the newest known connection of the device', async () => {
    const device = code();
    const newer = connId(2000);
    await store.connected(device, newer);
    await store.disconnected(device, newer);

    expect(await store.connected(device, connId(1000))).toBe(false);
    await sleep(1200);
    await store.sweep();

    expect((await transitionsOf(device)).map((t) => `${t.to}:${t.cause}`)).toEqual(['online:connected', 'offline:disconnected']);
  });

  it('marks a silent but connected speaker offline after three heartbeat intervals', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await sleep(1500);
    await store.heartbeat(device);
    await sleep(2000);
    await store.sweep();
    expect((await transitionsOf(device)).map((t) => t.to)).toEqual(['online']);

    await sleep(1200);
    await store.sweep();

    const [offline] = await transitionsOf(device);
    expect(offline).toMatchObject({ to: 'offline', cause: 'heartbeat-timeout' });
  });

  it('brings a timed-out speaker back online with its next heartbeat', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await sleep(3200);
    await store.sweep();
    await store.takeTransitions(10_000);

    expect(await store.heartbeat(device)).toBe(true);

    expect(await transitionsOf(device)).toEqual([expect.objectContaining({ from: 'offline', to: 'online', cause: 'heartbeat' })]);
  });

  it('records a decommissioned online speaker as offline and forgets it', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await store.takeTransitions(10_000);

    expect(await store.decommissioned(device)).toBe(true);
    await sleep(3200);
    await store.sweep();

    expect((await transitionsOf(device)).map((t) => `${t.to}:${t.cause}`)).toEqual(['offline:decommissioned']);
    expect((await store.snapshot([device])).get(device)?.state).toBeNull();
  });

  it('restores devices Postgres holds online only when Redis has lost them', async () => {
    const known = code();
    const lost = code();
    await store.connected(known, connId(1));
    await store.takeTransitions(10_000);

    expect(await store.restoreOnline([known, lost])).toBe(1);
    expect((await store.snapshot([lost])).get(lost)?.state).toBe('online');
    await sleep(3200);
    await store.sweep();

    expect((await transitionsOf(lost)).map((t) => `${t.from}->${t.to}:${t.cause}`)).toEqual(['online->offline:heartbeat-timeout']);
  });

  it('numbers transitions in increasing order', async () => {
    const device = code();
    await store.connected(device, connId(1));
    await store.decommissioned(device);
    await store.heartbeat(device);

    const seqs = (await transitionsOf(device)).map((t) => BigInt(t.seq));
    expect(seqs).toHaveLength(3);
    expect(seqs[0] < seqs[1] && seqs[1] < seqs[2]).toBe(true);
  });

  it("starts the grace period of the speakers a lost instance held, and only theirs, once its lease lapses", async () => {
    const [lostId, aliveId] = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')];
    const viaInstance = (instance: string, ms: number) => `${String(ms).padStart(15, '0')}-${instance}-${randomBytes(3).toString('hex')}`;
    const [stranded, movedAway, elsewhere] = [code(), code(), code()];
    await store.renewLease(lostId, 300);
    await store.renewLease(aliveId, 60_000);
    await store.connected(stranded, viaInstance(lostId, 1));
    await store.connected(movedAway, viaInstance(lostId, 1));
    await store.connected(movedAway, viaInstance(aliveId, 2));
    await store.connected(elsewhere, viaInstance(aliveId, 1));
    await store.takeTransitions(10_000);

    expect(await store.releaseLostInstances()).toEqual([]);
    await sleep(400);
    const lost = await store.releaseLostInstances();
    await sleep(1200);
    await store.sweep();

    expect(lost).toEqual([{ instanceId: lostId, devices: 1 }]);
    expect(await transitionsOf(stranded)).toMatchObject([{ from: 'online', to: 'offline', cause: 'disconnected' }]);
    const after = await store.snapshot([movedAway, elsewhere]);
    expect([after.get(movedAway)?.state, after.get(elsewhere)?.state]).toEqual(['online', 'online']);
    expect(await store.releaseLostInstances()).toEqual([]);
    await store.releaseLease(aliveId);
  });

  it('ends a grace period started by a lost instance when the speaker proves its link with a heartbeat', async () => {
    const lostId = randomBytes(4).toString('hex');
    const device = code();
    await store.renewLease(lostId, 100);
    await store.connected(device, `${String(1).padStart(15, '0')}-${lostId}-aa`);
    await sleep(200);
    await store.releaseLostInstances();
    await store.takeTransitions(10_000);

    await store.heartbeat(device);
    await sleep(1200);
    await store.sweep();

    expect(await transitionsOf(device)).toEqual([]);
  });

  it('does not take an instance that releases its lease while the sweep looks at it for a lost one', async () => {
    const instanceId = randomBytes(4).toString('hex');
    const device = code();
    await store.renewLease(instanceId, 60_000);
    await store.connected(device, `${String(1).padStart(15, '0')}-${instanceId}-aa`);
    await store.takeTransitions(10_000);

    // One connection, in this order: the sweep reads the members, the shutdown releases, the sweep checks the lease.
    const [lost] = await Promise.all([store.releaseLostInstances(), store.releaseLease(instanceId)]);
    await sleep(1200);
    await store.sweep();

    expect(lost).toEqual([]);
    expect(await transitionsOf(device)).toEqual([]);
  });
});
