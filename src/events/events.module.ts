import { Global, Module } from '@nestjs/common';
import { LiveEvents } from './live-events.service.js';

/** Global so any feature can publish live events without importing this module. */
@Global()
@Module({
  providers: [LiveEvents],
  exports: [LiveEvents],
})
export class EventsModule {}
