import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { AuditTrail, type AuditedRequest } from './audit-trail.service.js';

export interface FinishingResponse {
  statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

/**
 * The net under the interceptor and the guard: a state-changing call that was answered
 * without either of them writing its entry — refused by a guard a route adds of its own,
 * or by anything else between the router and the handler — is recorded once its response
 * has gone, with the status it got and no after-image (its body is never read). Unknown
 * paths (no route) are not recorded: there is nothing there to change.
 */
@Injectable()
export class AuditFallbackMiddleware implements NestMiddleware {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}

  use(request: AuditedRequest, response: FinishingResponse, next: () => void): void {
    if (this.trail.isAudited(request)) {
      response.once('finish', () => {
        if (!this.trail.isAudited(request) || !request.route?.path) return;
        void this.trail.answered(request, this.trail.subjectOf(request), response.statusCode);
      });
    }
    next();
  }
}
