import { Module } from '@nestjs/common';
import { DevicesModule } from '../../devices/devices.module.js';
import { AsRunRecorder } from './as-run-recorder.service.js';
import { AsRunWriter } from './as-run-writer.repository.js';
import { AsRunProcessor } from './as-run.processor.js';
import { PlaybackRejections } from './playback-rejections.service.js';

/** What devices report about plays, recorded into `deliveries`, and the as-run log read back from it. */
@Module({
  imports: [DevicesModule],
  providers: [AsRunRecorder, AsRunWriter, AsRunProcessor, PlaybackRejections],
  exports: [AsRunRecorder],
})
export class AsRunLogModule {}
