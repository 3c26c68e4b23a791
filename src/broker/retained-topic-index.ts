import { Readable } from 'node:stream';

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

/** The two methods of Aedes' persistence that store and find retained messages. */
export interface RetainedStore {
  storeRetained(packet: RetainedPacket, cb?: (err?: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

const WILDCARD = /[+#]/;

/**
 * Aedes' in-memory persistence answers a SUBSCRIBE by testing its patterns against every
 * retained message it holds. Loa retains a config and a schedule per device, so each
 * connect cost time in proportion to the fleet and a restart of 10,000 speakers crawled at
 * ~26 connects/s (bench/RESULTS.md, connect storm). Devices may subscribe to exact topics
 * only (topics.ts), so an index by topic answers them with map lookups; a pattern with a
 * wildcard still goes to the store. (The cluster's Redis persistence already looks exact
 * topics up directly.)
 */
export function indexRetainedByTopic(store: RetainedStore): void {
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = store.storeRetained.bind(store);
  store.storeRetained = (packet, cb) => {
    // The same rule as the store's: an empty payload clears the topic.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return storeRetained(packet, cb);
  };
  const findByPatterns = store.createRetainedStreamCombi.bind(store);
  store.createRetainedStreamCombi = (patterns) => {
    if (patterns.some((p) => WILDCARD.test(p))) return findByPatterns(patterns);
    const found = [...new Set(patterns)].map((topic) => byTopic.get(topic)).filter((p): p is RetainedPacket => p !== undefined);
    return Readable.from(found);
  };
}
