import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreaImportService } from './area-import.service.js';
import { Area } from './area.entity.js';
import { AreasController } from './areas.controller.js';
import { AreasService } from './areas.service.js';
import { DemoAreasSeeder } from './demo-areas.seeder.js';

@Module({
  imports: [TypeOrmModule.forFeature([Area])],
  controllers: [AreasController],
  providers: [AreasService, AreaImportService, DemoAreasSeeder],
  exports: [AreasService],
})
export class AreasModule {}
