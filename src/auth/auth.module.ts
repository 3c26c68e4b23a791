import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtAuthGuard } from './jwt-auth.guard.js';
import { OperatorAuthenticator } from './operator-authenticator.js';
import { User } from './user.entity.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([User]),
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        secret: config.JWT_SECRET,
        signOptions: { expiresIn: config.JWT_TTL_S, issuer: 'loa' },
        verifyOptions: { issuer: 'loa' },
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, OperatorAuthenticator, { provide: APP_GUARD, useClass: JwtAuthGuard }],
  exports: [OperatorAuthenticator],
})
export class AuthModule {}
