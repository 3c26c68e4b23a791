import { Module } from '@nestjs/common';
import { AreasModule } from '../../areas/areas.module.js';
import { DevicesModule } from '../../devices/devices.module.js';
import { AsRunLogController } from './as-run-log.controller.js';
import { AsRunLog } from './as-run-log.service.js';
import { AsRunQueries } from './as-run-queries.repository.js';
import { AsRunRecorder } from './as-run-recorder.service.js';
import { AsRunWriter } from './as-run-writer.repository.js';
import { AsRunProcessor } from './as-run.processor.js';
import { PlaybackRejections } from './playback-rejections.service.js';

/** What devices report about plays, recorded into `deliveries`, and the as-run log read back from it. */
@Module({
  imports: [DevicesModule, AreasModule],
  controllers: [AsRunLogController],
  providers: [AsRunRecorder, AsRunWriter, AsRunProcessor, PlaybackRejections, AsRunQueries, AsRunLog],
  exports: [AsRunRecorder],
})
export class AsRunLogModule {}
