import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { RedisService } from '../../redis/redis.module.js';
import type { DeviceState, StateChangeCause } from '../device-state.js';

/** One change of a device's liveness state, as decided atomically in Redis. */
export interface LivenessTransition {
  /** Unique and increasing across Redis restarts: `ms * 1024 + counter % 1024`, as a decimal string. */
  seq: string;
  code: string;
  from: DeviceState;
  to: DeviceState;
  cause: StateChangeCause;
  /** Epoch milliseconds (the deadline that expired, for the sweep's offline transitions). */
  at: number;
}

/*
 * The liveness state machine lives in these Lua scripts so that every decision is atomic
 * across broker instances and the sweep, and timed by one clock (Redis TIME).
 *
 * KEYS (all under the Redis prefix):
 *   1 state   hash  code -> online|offline
 *   2 hb      zset  code -> heartbeat deadline (ms): last heartbeat + 3 × interval
 *   3 grace   zset  code -> grace deadline (ms): set on disconnect, cleared on connect
 *   4 conn    hash  code -> id of the newest connection (time-ordered string)
 *   5 seen    hash  code -> last heartbeat or connect (ms)
 *   6 log     list  transitions not yet written to Postgres (JSON)
 *   7 counter string, feeds seq
 *   8 instances set  ids of the broker instances holding a lease (lease keys: `live:instance:{id}`)
 * Each transition is appended to `log` in the same script that decides it, so a crash
 * between deciding and persisting loses nothing.
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function transition(code, to, cause, at)
  local from = redis.call('HGET', KEYS[1], code) or 'unknown'
  if from == to then return 0 end
  redis.call('HSET', KEYS[1], code, to)
  local seq = string.format('%d', at * 1024 + (redis.call('INCR', KEYS[7]) % 1024))
  redis.call('RPUSH', KEYS[6], cjson.encode({seq = seq, code = code, from = from, to = to, cause = cause, at = at}))
  return 1
end
`;

/** ARGV: code, connId, heartbeat timeout ms. A connect older than the newest known one is stale. */
const CONNECT = `${PRELUDE}
local code, conn_id, timeout = ARGV[1], ARGV[2], tonumber(ARGV[3])
local current = redis.call('HGET', KEYS[4], code)
if current and current > conn_id then return -1 end
local now = now_ms()
redis.call('HSET', KEYS[4], code, conn_id)
redis.call('ZREM', KEYS[3], code)
redis.call('ZADD', KEYS[2], now + timeout, code)
redis.call('HSET', KEYS[5], code, now)
return transition(code, 'online', 'connected', now)
`;

/** ARGV: code, connId, grace ms. Only the newest connection's disconnect starts the grace timer. */
const DISCONNECT = `${PRELUDE}
local code, conn_id, grace = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HGET', KEYS[4], code) ~= conn_id then return -1 end
redis.call('ZADD', KEYS[3], now_ms() + grace, code)
return 1
`;

/**
 * ARGV: code, heartbeat timeout ms. A heartbeat proves a live link, so it also ends a grace
 * period, which only the loss of an instance can have started on a link still up (LOST).
 */
const HEARTBEAT = `${PRELUDE}
local code, timeout = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
redis.call('ZREM', KEYS[3], code)
redis.call('ZADD', KEYS[2], now + timeout, code)
redis.call('HSET', KEYS[5], code, now)
return transition(code, 'online', 'heartbeat', now)
`;

/** ARGV: max devices per kind. Offline at the deadline that expired, not at sweep time. */
const SWEEP = `${PRELUDE}
local limit = tonumber(ARGV[1])
local now = now_ms()
local changed = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #expired, 2 do
  local code = expired[i]
  redis.call('ZREM', KEYS[3], code)
  redis.call('ZREM', KEYS[2], code)
  changed = changed + transition(code, 'offline', 'disconnected', tonumber(expired[i + 1]))
end
expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #expired, 2 do
  local code = expired[i]
  redis.call('ZREM', KEYS[2], code)
  changed = changed + transition(code, 'offline', 'heartbeat-timeout', tonumber(expired[i + 1]))
end
return changed
`;

/**
 * KEYS[9]: the instance's lease. ARGV: instance id, grace ms. An instance whose lease
 * expired died without recording its disconnects: each online device whose newest
 * connection was to it (connection ids carry the instance id) starts the grace period now,
 * as if its link had just dropped. Devices that already reconnected elsewhere have a newer
 * connection id and are left alone. Returns -1, changing nothing, while the instance holds
 * its lease or once it has released it (a shutdown racing the sweep); that check is all a
 * live instance costs. The rest runs only when an instance is lost, so reading the whole
 * connection hash is affordable.
 */
const LOST = `${PRELUDE}
local id, grace = ARGV[1], tonumber(ARGV[2])
if redis.call('SISMEMBER', KEYS[8], id) == 0 or redis.call('EXISTS', KEYS[9]) == 1 then return -1 end
local marker = '-' .. id .. '-'
local deadline = now_ms() + grace
local conns = redis.call('HGETALL', KEYS[4])
local started = 0
for i = 1, #conns, 2 do
  local code = conns[i]
  if string.find(conns[i + 1], marker, 1, true) and redis.call('HGET', KEYS[1], code) == 'online'
     and not redis.call('ZSCORE', KEYS[3], code) then
    redis.call('ZADD', KEYS[3], deadline, code)
    started = started + 1
  end
end
redis.call('SREM', KEYS[8], id)
return started
`;

/** ARGV: code. Forgets the device; records it offline if it was online. */
const DECOMMISSION = `${PRELUDE}
local code = ARGV[1]
redis.call('ZREM', KEYS[2], code)
redis.call('ZREM', KEYS[3], code)
redis.call('HDEL', KEYS[4], code)
local changed = transition(code, 'offline', 'decommissioned', now_ms())
redis.call('HDEL', KEYS[1], code)
return changed
`;

/**
 * ARGV: code, heartbeat timeout ms. After Redis lost its data, restores a device Postgres
 * still believes online, giving it one full heartbeat timeout to show up.
 */
const RESTORE_ONLINE = `${PRELUDE}
local code, timeout = ARGV[1], tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[1], code) == 1 then return 0 end
redis.call('HSET', KEYS[1], code, 'online')
redis.call('ZADD', KEYS[2], 'NX', now_ms() + timeout, code)
return 1
`;

/** ARGV: max entries. Pops the oldest transitions. */
const TAKE_LOG = `
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items > 0 then redis.call('LTRIM', KEYS[1], #items, -1) end
return items
`;

type ScriptName = 'connect' | 'disconnect' | 'heartbeat' | 'sweep' | 'lost' | 'decommission' | 'restore' | 'takeLog';
type ScriptRunner = (...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS: Record<ScriptName, { lua: string; keys: number }> = {
  connect: { lua: CONNECT, keys: 7 },
  disconnect: { lua: DISCONNECT, keys: 7 },
  heartbeat: { lua: HEARTBEAT, keys: 7 },
  sweep: { lua: SWEEP, keys: 7 },
  lost: { lua: LOST, keys: 9 },
  decommission: { lua: DECOMMISSION, keys: 7 },
  restore: { lua: RESTORE_ONLINE, keys: 7 },
  takeLog: { lua: TAKE_LOG, keys: 1 },
};

const commandName = (name: ScriptName) => `loaLiveness_${name}`;

@Injectable()
export class LivenessStore {
  private readonly keys: string[];
  private readonly heartbeatTimeoutMs: number;
  private readonly graceMs: number;

  constructor(
    @Inject(RedisService) private readonly redis: RedisService,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.keys = ['state', 'hb', 'grace', 'conn', 'seen', 'log', 'seq', 'instances'].map((k) => redis.key('live', k));
    this.heartbeatTimeoutMs = 3 * config.HEARTBEAT_INTERVAL_S * 1000;
    this.graceMs = config.OFFLINE_GRACE_S * 1000;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      const command = commandName(name as ScriptName);
      if (!(command in redis.client)) redis.client.defineCommand(command, { numberOfKeys: script.keys, lua: script.lua });
    }
  }

  /** ioredis turns each defined script into a method (EVALSHA, falling back to EVAL). */
  private run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return this.runWithKeys(name, name === 'takeLog' ? [] : this.keys.slice(0, SCRIPTS[name].keys), ...args);
  }

  private runWithKeys(name: ScriptName, keys: string[], ...args: (string | number)[]): Promise<unknown> {
    const runner = (this.redis.client as unknown as Record<string, ScriptRunner>)[commandName(name)];
    return runner.call(this.redis.client, ...keys, ...args);
  }

  /** @returns whether the device changed state (false too when the connect was stale). */
  async connected(code: string, connId: string): Promise<boolean> {
    return (await this.run('connect', code, connId, this.heartbeatTimeoutMs)) === 1;
  }

  /** @returns false when a newer connection of the device exists: the disconnect is stale. */
  async disconnected(code: string, connId: string): Promise<boolean> {
    return (await this.run('disconnect', code, connId, this.graceMs)) === 1;
  }

  /** @returns whether the device changed state. */
  async heartbeat(code: string): Promise<boolean> {
    return (await this.run('heartbeat', code, this.heartbeatTimeoutMs)) === 1;
  }

  /** Marks offline every device whose grace period or heartbeat deadline has passed. */
  async sweep(limit = 5000): Promise<number> {
    return Number(await this.run('sweep', limit));
  }

  /**
   * Claims or extends an instance's lease: while it holds one, its devices' links count as up.
   * @returns whether the lease was still held (false the first time, or if it had lapsed).
   */
  async renewLease(instanceId: string, ttlMs: number): Promise<boolean> {
    const results = await this.redis.client.multi().set(this.leaseKey(instanceId), '1', 'PX', ttlMs, 'GET').sadd(this.keys[7], instanceId).exec();
    return results?.[0]?.[1] === '1';
  }

  /** An instance that shuts down has recorded its disconnects, and gives its lease up. */
  async releaseLease(instanceId: string): Promise<void> {
    await this.redis.client.multi().del(this.leaseKey(instanceId)).srem(this.keys[7], instanceId).exec();
  }

  /**
   * Finds instances whose lease expired and starts the grace period of the devices still
   * counted online through them. @returns each lost instance with that number of devices.
   */
  async releaseLostInstances(): Promise<{ instanceId: string; devices: number }[]> {
    // The script itself checks the lease (atomically, so a shutdown or renewal racing the
    // sweep is never taken for a loss) and answers -1 at once for a live instance.
    const ids = await this.redis.client.smembers(this.keys[7]);
    const outcomes = await Promise.all(
      ids.map(async (instanceId) => ({
        instanceId,
        devices: Number(await this.runWithKeys('lost', [...this.keys, this.leaseKey(instanceId)], instanceId, this.graceMs)),
      })),
    );
    return outcomes.filter((o) => o.devices >= 0);
  }

  private leaseKey(instanceId: string): string {
    return this.redis.key('live', 'instance', instanceId);
  }

  async decommissioned(code: string): Promise<boolean> {
    return (await this.run('decommission', code)) === 1;
  }

  async restoreOnline(codes: string[]): Promise<number> {
    const results = await Promise.all(codes.map((code) => this.run('restore', code, this.heartbeatTimeoutMs)));
    return results.filter((value) => value === 1).length;
  }

  async takeTransitions(limit = 1000): Promise<LivenessTransition[]> {
    const raw = (await this.run('takeLog', this.keys[5], limit)) as string[];
    return raw.map((item) => JSON.parse(item) as LivenessTransition);
  }

  /** Puts transitions back at the head of the log when persisting them failed. */
  async returnTransitions(transitions: LivenessTransition[]): Promise<void> {
    if (!transitions.length) return;
    await this.redis.client.lpush(this.keys[5], ...transitions.map((t) => JSON.stringify(t)).reverse());
  }

  /** Live state and last-seen time (ms) for these devices, from Redis. */
  async snapshot(codes: string[]): Promise<Map<string, { state: DeviceState | null; lastSeenMs: number | null }>> {
    const result = new Map<string, { state: DeviceState | null; lastSeenMs: number | null }>();
    if (!codes.length) return result;
    const [states, seen] = await Promise.all([
      this.redis.client.hmget(this.keys[0], ...codes),
      this.redis.client.hmget(this.keys[4], ...codes),
    ]);
    codes.forEach((code, i) =>
      result.set(code, { state: (states[i] as DeviceState | null) ?? null, lastSeenMs: seen[i] ? Number(seen[i]) : null }),
    );
    return result;
  }
}
