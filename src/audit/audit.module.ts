import { Global, Inject, Module, type NestModule } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEntry } from './audit-entry.entity.js';
import { AuditFallbackMiddleware, type FinishingResponse } from './audit-fallback.middleware.js';
import { AuditLogRepository } from './audit-log.repository.js';
import { AuditTrail, type AuditedRequest } from './audit-trail.service.js';
import { AuditController } from './audit.controller.js';
import { AuditInterceptor } from './audit.interceptor.js';

/**
 * Where each POST/PUT/PATCH/DELETE gets its one entry:
 * - the interceptor, for calls that reach their route (answered, or failed in a pipe or the
 *   handler): it reads the before-image ahead of the handler and writes the entry before a
 *   success is answered, so an acknowledged change always has its trail;
 * - the auth guard, for the calls it refuses (401, 403), with the caller when it is known;
 * - the fallback middleware, after the response, for anything answered without either.
 * Global so the guard can use the trail.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntry])],
  controllers: [AuditController],
  providers: [AuditLogRepository, AuditTrail, AuditFallbackMiddleware, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
  exports: [AuditTrail],
})
export class AuditModule implements NestModule {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(AuditFallbackMiddleware) private readonly fallback: AuditFallbackMiddleware,
  ) {}

  /**
   * Nest calls this before it mounts the routes, so the fallback sees every request. It is
   * mounted as plain Express middleware: `consumer.forRoutes('{*path}')` would mount it as a
   * route of its own, which route listings would count and which unknown paths would match.
   */
  configure(): void {
    this.host.httpAdapter?.use((req: AuditedRequest, res: FinishingResponse, next: () => void) => this.fallback.use(req, res, next));
  }
}
