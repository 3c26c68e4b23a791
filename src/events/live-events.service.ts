import { Injectable } from '@nestjs/common';
import type { LiveEventInput } from './live-event.js';

/** Publishes live events for the SSE stream. (Stub: implemented by the events work.) */
@Injectable()
export class LiveEvents {
  async publish(_events: LiveEventInput[]): Promise<void> {}
}
