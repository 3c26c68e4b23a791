import { ForbiddenException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { OperatorAuthenticator } from '../auth/operator-authenticator.js';
import { MediaUrlSigner } from './media-url-signer.js';

/**
 * The content route is @Public so that devices can fetch it with the signed `token` of
 * their media URL alone; without a token, it asks for an operator's JWT exactly as the
 * global guard does everywhere else.
 */
@Injectable()
export class MediaContentGuard implements CanActivate {
  constructor(
    @Inject(MediaUrlSigner) private readonly signer: MediaUrlSigner,
    @Inject(OperatorAuthenticator) private readonly operators: OperatorAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ query?: Record<string, unknown>; params?: Record<string, string>; headers?: Record<string, unknown> }>();
    const token = request.query?.token;
    if (token === undefined) {
      await this.operators.authenticate(request);
      return true;
    }
    if (typeof token !== 'string' || !this.signer.verify(request.params?.id ?? '', token)) {
      throw new ForbiddenException({ error: 'forbidden', message: 'the media link is invalid, for another media, or expired' });
    }
    return true;
  }
}
