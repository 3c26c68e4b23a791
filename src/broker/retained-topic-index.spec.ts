import aedesMemoryPersistence from 'aedes-persistence';
import type { Readable } from 'node:stream';
import { indexRetainedByTopic, type RetainedStore } from './retained-topic-index.js';

const packet = (topic: string, payload: string) => ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true });

async function topicsOf(stream: Readable): Promise<string[]> {
  const found: string[] = [];
  for await (const p of stream) found.push(`${(p as { topic: string }).topic}=${(p as { payload: Buffer }).payload.toString()}`);
  return found.sort();
}

describe('retained messages indexed by topic', () => {
  it('answers exact topics like the store does, and leaves wildcards to the store', async () => {
    const createStore = aedesMemoryPersistence as unknown as () => RetainedStore & { storeRetained(p: unknown): Promise<void> };
    const store = createStore();
    indexRetainedByTopic(store);
    await store.storeRetained(packet('loa/v1/devices/a/config', '1'));
    await store.storeRetained(packet('loa/v1/devices/b/config', '2'));
    await store.storeRetained(packet('loa/v1/devices/a/config', '3'));
    await store.storeRetained(packet('loa/v1/devices/b/config', ''));

    expect(await topicsOf(store.createRetainedStreamCombi(['loa/v1/devices/a/config', 'loa/v1/devices/b/config', 'loa/v1/devices/a/config']))).toEqual([
      'loa/v1/devices/a/config=3',
    ]);
    expect(await topicsOf(store.createRetainedStreamCombi(['loa/v1/devices/+/config']))).toEqual(['loa/v1/devices/a/config=3']);
    expect(await topicsOf(store.createRetainedStreamCombi(['loa/v1/devices/c/config']))).toEqual([]);
  });
});
