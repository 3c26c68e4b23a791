import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreasModule } from '../areas/areas.module.js';
import { MediaModule } from '../media/media.module.js';
import { Bulletin } from './bulletin.entity.js';
import { BulletinsController } from './bulletins.controller.js';
import { BulletinsService } from './bulletins.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Bulletin]), AreasModule, MediaModule],
  controllers: [BulletinsController],
  providers: [BulletinsService],
  exports: [BulletinsService],
})
export class BulletinsModule {}
