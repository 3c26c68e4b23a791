import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OperatorAuthenticator } from './operator-authenticator.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Global guard: every route needs `Authorization: Bearer <JWT>` unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(OperatorAuthenticator) private readonly operators: OperatorAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    await this.operators.authenticate(context.switchToHttp().getRequest());
    return true;
  }
}
