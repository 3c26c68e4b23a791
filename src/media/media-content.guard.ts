import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ModuleRef, type Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { MediaUrlSigner } from './media-url-signer.js';

/** Tells the reused JwtAuthGuard that no route is public, so it always checks the bearer token. */
const NOTHING_IS_PUBLIC = { getAllAndOverride: () => false } as unknown as Reflector;

/**
 * The content route is @Public so that devices can fetch it with the signed `token` of
 * their media URL alone; without a token, it asks for an operator's JWT exactly as the
 * global guard does everywhere else.
 */
@Injectable()
export class MediaContentGuard implements CanActivate {
  private operatorGuard: CanActivate | null = null;

  constructor(
    @Inject(MediaUrlSigner) private readonly signer: MediaUrlSigner,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ query?: Record<string, unknown>; params?: Record<string, string> }>();
    const token = request.query?.token;
    if (token === undefined) return this.operatorAuth().canActivate(context) as Promise<boolean>;
    if (typeof token !== 'string' || !this.signer.verify(request.params?.id ?? '', token)) {
      throw new ForbiddenException({ error: 'forbidden', message: 'the media link is invalid, for another media, or expired' });
    }
    return true;
  }

  private operatorAuth(): CanActivate {
    // AuthModule keeps its JwtService to itself; looked up, not re-registered, so the secret and issuer stay in one place.
    this.operatorGuard ??= new JwtAuthGuard(NOTHING_IS_PUBLIC, this.moduleRef.get(JwtService, { strict: false }));
    return this.operatorGuard;
  }
}
