import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { Principal } from './principal.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Global guard: every route needs `Authorization: Bearer <JWT>` unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(JwtService) private readonly jwt: JwtService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest();
    const header: unknown = request.headers?.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('missing bearer token');
    try {
      const claims = await this.jwt.verifyAsync<{ sub: string; username: string; role: Principal['role']; areaCode: string | null }>(match[1]);
      request.principal = {
        userId: claims.sub,
        username: claims.username,
        role: claims.role,
        areaCode: claims.areaCode ?? null,
      } satisfies Principal;
      return true;
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
  }
}
