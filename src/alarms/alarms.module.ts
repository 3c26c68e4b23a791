import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreasModule } from '../areas/areas.module.js';
import { AlarmNotifier } from './alarm-notifier.service.js';
import { AlarmSweepProcessor } from './alarm-sweep.processor.js';
import { AlarmSweep } from './alarm-sweep.service.js';
import { AlarmThreshold } from './alarm-threshold.entity.js';
import { AlarmThresholdsController } from './alarm-thresholds.controller.js';
import { AlarmThresholds } from './alarm-thresholds.service.js';
import { Alarm } from './alarm.entity.js';
import { AlarmsController } from './alarms.controller.js';
import { AlarmsRepository } from './alarms.repository.js';
import { AlarmsService } from './alarms.service.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

/** Offline alarms: the cluster-wide sweep, per-area thresholds, acknowledgement, and their webhooks. */
@Module({
  imports: [TypeOrmModule.forFeature([Alarm, AlarmThreshold]), AreasModule, WebhooksModule],
  controllers: [AlarmsController, AlarmThresholdsController],
  providers: [AlarmsRepository, AlarmsService, AlarmNotifier, AlarmSweep, AlarmSweepProcessor, AlarmThresholds],
})
export class AlarmsModule {}
