import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Principal } from './principal.js';

/** Reads the operator's `Authorization: Bearer <JWT>` and attaches the Principal to the request. */
@Injectable()
export class OperatorAuthenticator {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  async authenticate(request: { headers?: Record<string, unknown>; principal?: Principal }): Promise<Principal> {
    const header = request.headers?.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('missing bearer token');
    try {
      const claims = await this.jwt.verifyAsync<{ sub: string; username: string; role: Principal['role']; areaCode: string | null; areaPath?: string | null }>(match[1]);
      request.principal = {
        userId: claims.sub,
        username: claims.username,
        role: claims.role,
        areaCode: claims.areaCode ?? null,
        areaPath: claims.areaPath ?? null,
      } satisfies Principal;
      return request.principal;
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
  }
}
