import { Global, Module } from '@nestjs/common';
import { EventFanout } from './event-fanout.service.js';
import { EventLog } from './event-log.repository.js';
import { EventStreams } from './event-streams.service.js';
import { EventsController } from './events.controller.js';
import { LiveEvents } from './live-events.service.js';

/** Global so any feature can publish live events without importing this module. */
@Global()
@Module({
  controllers: [EventsController],
  providers: [EventLog, LiveEvents, EventFanout, EventStreams],
  exports: [LiveEvents],
})
export class EventsModule {}
