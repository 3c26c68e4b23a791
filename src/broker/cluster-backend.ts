import aedesPersistenceRedis, { type RedisPersistence } from 'aedes-persistence-redis';
import { Redis } from 'ioredis';
import MQEmitterRedis from 'mqemitter-redis';

/**
 * Topics published into the broker that no listener on any instance matches: the notices
 * Aedes sends for `$SYS` subscribers (which devices cannot be). Aedes itself listens only to
 * `$SYS/+/heartbeat`, `/birth`, `/new/clients` and the persistence to `$SYS/sub/+`; those
 * must cross. Device messages never get this far: Loa consumes them and ends their publish
 * before the emit (consumed-publishes.ts), so none crosses Redis.
 */
const LOCAL_ONLY = /^\$SYS\/[^/]+\/(disconnect\/clients|new\/subscribes|new\/unsubscribes)$/;

/**
 * Queued QoS 1 packets of an absent clean=false session are kept one day: no command Loa
 * sends lives longer (`expiresInS` ≤ 86,400), and a speaker that never returns must not
 * grow Redis forever.
 */
const QUEUED_PACKET_TTL_S = 86_400;

type Packet = { topic: string };
type PrefixedEmitter = new (prefix: string, options: MQEmitterRedis.MQEmitterOptions) => MQEmitterRedis.MQEmitterRedis;
/** mqemitter-redis's prefixing subclass; its typings do not declare it. */
const MQEmitterRedisPrefix = (MQEmitterRedis as unknown as { MQEmitterRedisPrefix: PrefixedEmitter }).MQEmitterRedisPrefix;
type EmitCallback = (err?: Error) => void;

export interface ClusterBackend {
  /** Aedes `mq`: the message bus between the instances. */
  mq: { emit(packet: Packet, cb?: EmitCallback): unknown; close(cb: () => void): unknown };
  /** Aedes `persistence`: retained messages, sessions and their queued packets. */
  persistence: RedisPersistence;
  /** Releases the persistence's Redis connection; call after Aedes has closed (which closes `mq`). */
  close(): Promise<void>;
}

/**
 * What turns several Aedes instances into one broker: every message Loa publishes goes
 * through Redis pub/sub (channel `{prefix}:mqtt:{topic}`), so a command, a Schedule or an
 * emergency published on one instance reaches subscribers on all of them; retained messages
 * and clean=false sessions live in Redis (keys `{prefix}:mqtt:*`), so a speaker that
 * reconnects to another instance finds its Schedule, DeviceConfig and queued commands.
 */
export function createClusterBackend(redisUrl: string, prefix: string, brokerId: string): ClusterBackend {
  // Named so that `CLIENT LIST` tells an operator which instance and role each connection has.
  const name = (role: string) => `${prefix}:mqtt-${role}:${brokerId}`;
  // No ready check on the subscriber: after a reconnect ioredis would send INFO on a
  // connection in subscriber mode, which Redis refuses; ioredis resubscribes by itself.
  const subConn = new Redis(redisUrl, { enableReadyCheck: false, connectionName: name('sub') });
  const pubConn = new Redis(redisUrl, { enableAutoPipelining: true, connectionName: name('pub') });
  const mq = new MQEmitterRedisPrefix(`${prefix}:mqtt:`, {
    subConn,
    pubConn,
    // No concurrency limit (mqemitter's default 0). A delivery to a speaker that stopped
    // reading holds its emit until the socket drains or BROKER_DRAIN_TIMEOUT_MS passes; with
    // a limit, a few such emits would queue every later message — an emergency to everyone
    // else — behind one frozen speaker. Memory stays bounded by the drain timeout.
    concurrency: 0,
  });
  const emitToRedis = mq.emit.bind(mq);
  // Completing the emit here is the whole of a LOCAL_ONLY notice's delivery, since nothing can
  // subscribe to it (devices cannot subscribe to `$` topics, Loa subscribes to nothing).
  mq.emit = (packet: Packet, cb?: EmitCallback) => {
    if (!LOCAL_ONLY.test(packet.topic)) return emitToRedis(packet, cb);
    if (cb) process.nextTick(cb);
    return mq;
  };
  // Auto-pipelined: a fan-out makes one small command per speaker (store before the write,
  // clear on PUBACK), thousands at once; batching them into few writes is most of their cost.
  const persistenceConn = new Redis(redisUrl, { keyPrefix: `${prefix}:mqtt:`, connectionName: name('store'), enableAutoPipelining: true });
  const persistence = aedesPersistenceRedis({ conn: persistenceConn, packetTTL: () => QUEUED_PACKET_TTL_S });
  pipelineEnqueue(persistence, persistenceConn);
  return {
    mq,
    persistence,
    async close() {
      await persistence.destroy().catch(() => undefined);
      persistenceConn.disconnect();
    },
  };
}

/**
 * Aedes queues a QoS 1 publish for every clean=false subscriber before it delivers it to
 * anyone, and aedes-persistence-redis 11–12 does that with one awaited RPUSH per
 * subscriber: an emergency to 10,000 speakers waited about 10,000 round trips to Redis
 * before the first speaker got it. Here the first subscriber goes through the library
 * (which stores the packet, its count and TTL) and the rest are queued in one pipeline,
 * with the count raised to match. Nothing can PUBACK the packet in between: Aedes emits it
 * only after this returns. Key names are the library's (`packet:{brokerId}:{counter}`,
 * `…:offlineCount`, `outgoing:{clientId}`); the cluster tests' queued-command case reads
 * them back through the library.
 */
function pipelineEnqueue(persistence: RedisPersistence, conn: Redis): void {
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    await enqueue(subs.slice(0, 1), packet);
    if (subs.length < 2) return;
    const packetKey = `packet:${packet.brokerId}:${packet.brokerCounter}`;
    const pipeline = conn.pipeline().incrby(`${packetKey}:offlineCount`, subs.length - 1);
    for (const sub of subs.slice(1)) pipeline.rpush(`outgoing:${encodeURIComponent(sub.clientId)}`, packetKey);
    const failed = (await pipeline.exec())?.find(([err]) => err);
    if (failed) throw failed[0];
  };
}
