/** aedes-persistence-redis ships no types; this is the part Loa calls. */
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';

  interface RedisPersistenceOptions {
    conn?: Redis;
    maxSessionDelivery?: number;
    /** Seconds a queued QoS 1/2 packet is kept; 0 keeps it forever. */
    packetTTL?: (packet: unknown) => number;
  }

  /** What Aedes hands the persistence for a QoS 1 publish: its id on the publishing broker. */
  export interface BrokerPacket {
    brokerId: string;
    brokerCounter: number;
  }

  export interface RedisPersistence {
    outgoingEnqueueCombi(subs: { clientId: string }[], packet: BrokerPacket): Promise<void>;
    destroy(): Promise<void>;
  }

  export default function aedesPersistenceRedis(options?: RedisPersistenceOptions): RedisPersistence;
}
