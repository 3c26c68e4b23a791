import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Area } from '../areas/area.entity.js';
import { AuthModule } from '../auth/auth.module.js';
import { User } from '../auth/user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User, Area]), AuthModule],
  controllers: [UsersController],
  providers: [UsersService],
})
export class UsersModule {}
