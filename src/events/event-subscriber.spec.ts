import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { Principal } from '../auth/principal.js';
import { EventSubscriber, eventFrame } from './event-subscriber.js';
import type { LiveEvent } from './live-event.js';

const admin: Principal = { userId: 'u', username: 'admin', role: 'admin', areaCode: null, areaPath: null };
const anEvent = (id: string): LiveEvent => ({ id, type: 'alarm.cleared', at: new Date(0).toISOString(), areaPath: null, data: { id } });

/** A response that keeps what is written to it, as the client would read it. */
function aResponse(): { res: ServerResponse; ids: () => string[] } {
  const chunks: string[] = [];
  const res = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const ids = () => [...chunks.join('').matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
  return { res: res as unknown as ServerResponse, ids };
}

describe(EventSubscriber.name, () => {
  it('writes an event once when the live reader delivers it after the replay already did', async () => {
    const { res, ids } = aResponse();
    const subscriber = new EventSubscriber(admin, res, Date.now() + 60_000, { replaying: true });
    subscriber.startAfter('1-0');
    const [a, b, c] = [anEvent('2-0'), anEvent('2-1'), anEvent('3-0')];

    subscriber.offer(a, eventFrame(a));
    await subscriber.replay(a);
    await subscriber.replay(b);
    subscriber.goLive();
    // The reader, behind the replay's XRANGE, now hands over b, then c.
    subscriber.offer(b, eventFrame(b));
    subscriber.offer(c, eventFrame(c));
    await new Promise((resolve) => setImmediate(resolve));

    expect(ids()).toEqual(['2-0', '2-1', '3-0']);
  });
});
