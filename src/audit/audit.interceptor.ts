import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concatMap, from, type Observable } from 'rxjs';
import { AuditTrail, type AuditedRequest } from './audit-trail.service.js';

/**
 * Global: records every state-changing call that reaches its route — answered, refused by
 * a pipe (400) or failed in the handler. Calls refused earlier are recorded by the auth
 * guard (401, 403) or, for a route's own guard, by AuditFallbackMiddleware. The entry of a
 * successful call is written before the response leaves: an acknowledged change always has
 * its trail, at the cost of one insert of latency.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    if (!this.trail.isAudited(request)) return next.handle();
    const subject = this.trail.subjectOf(request);
    // Nest sets the route's status (its @HttpCode or the method's default) before interceptors
    // run; a handler using `@Res({ passthrough: true })` may change it, so it is read after.
    const response = context.switchToHttp().getResponse<{ statusCode: number }>();
    return from(this.trail.beforeImage(request, subject)).pipe(
      concatMap((before) =>
        next.handle().pipe(
          concatMap(async (body: unknown) => {
            await this.trail.succeeded(request, subject, response.statusCode, before, body);
            return body;
          }),
          catchError(async (error: unknown) => {
            await this.trail.failed(request, subject, error, before);
            throw error;
          }),
        ),
      ),
    );
  }
}
