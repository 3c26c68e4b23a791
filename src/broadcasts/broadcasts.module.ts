import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BulletinsModule } from '../bulletins/bulletins.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { MediaModule } from '../media/media.module.js';
import { BroadcastTargets } from './broadcast-targets.service.js';
import { Broadcast } from './broadcast.entity.js';
import { BroadcastsController } from './broadcasts.controller.js';
import { BroadcastsService } from './broadcasts.service.js';
import { ImmediateStart } from './immediate-start.service.js';
import { HorizonKeeper } from './horizon-keeper.service.js';
import { MissedPlays } from './missed-plays.service.js';
import { OccurrencePlanner } from './occurrence-planner.service.js';
import { PlayAckWave } from './play-ack-wave.js';
import { PlayDispatcher } from './play-dispatcher.service.js';
import { SchedulePublisher } from './schedule-publisher.service.js';
import { SchedulingProcessor } from './scheduling.processor.js';

@Module({
  imports: [TypeOrmModule.forFeature([Broadcast]), BulletinsModule, MediaModule, DevicesModule],
  controllers: [BroadcastsController],
  providers: [
    BroadcastsService,
    BroadcastTargets,
    OccurrencePlanner,
    HorizonKeeper,
    SchedulePublisher,
    PlayDispatcher,
    PlayAckWave,
    ImmediateStart,
    MissedPlays,
    SchedulingProcessor,
  ],
})
export class BroadcastsModule {}
