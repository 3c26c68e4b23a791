import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditTrail, type AuditedRequest } from '../audit/audit-trail.service.js';
import { OperatorAuthenticator } from './operator-authenticator.js';
import { REQUIRES, roleMay, type Permission } from './permissions.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Global guard: every route needs `Authorization: Bearer <JWT>` unless marked @Public(),
 * and the caller's role must hold the route's permission (403 otherwise). A refused
 * attempt to change something is recorded in the audit log here, since it never reaches
 * the audit interceptor.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(OperatorAuthenticator) private readonly operators: OperatorAuthenticator,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuditedRequest>();
    try {
      const principal = await this.operators.authenticate(request);
      const declared = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRES, targets);
      const needed = declared ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin-only');
      if (!roleMay(principal.role, needed)) {
        throw new ForbiddenException({ error: 'forbidden', message: `role ${principal.role} may not do this (${needed})` });
      }
      return true;
    } catch (err) {
      if (this.audit.isAudited(request)) await this.audit.failed(request, this.audit.subjectOf(request), err);
      throw err;
    }
  }
}
