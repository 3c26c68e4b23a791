import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Bulletin } from './bulletin.entity.js';
import { BulletinsController } from './bulletins.controller.js';
import { BulletinsService } from './bulletins.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Bulletin])],
  controllers: [BulletinsController],
  providers: [BulletinsService],
  exports: [BulletinsService],
})
export class BulletinsModule {}
