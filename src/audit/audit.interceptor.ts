import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, concatMap, from, type Observable } from 'rxjs';
import { AuditTrail, type AuditedRequest } from './audit-trail.service.js';

/**
 * Global: records every state-changing call that reaches its route — answered, refused by
 * a pipe (400) or failed in the handler. Calls refused earlier, by the guard (401, 403),
 * are recorded by the guard itself. The entry of a successful call is written before the
 * response leaves.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    if (!this.trail.isAudited(request)) return next.handle();
    const subject = this.trail.subjectOf(request);
    const declared = Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined;
    const statusCode = declared ?? (request.method === 'POST' ? 201 : 200);
    return from(this.trail.beforeImage(request, subject)).pipe(
      concatMap((before) =>
        next.handle().pipe(
          concatMap(async (body: unknown) => {
            await this.trail.succeeded(request, subject, statusCode, before, body);
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
