import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

/** With METRICS_TOKEN set, a scrape must carry `Authorization: Bearer <METRICS_TOKEN>`; without it /metrics is open. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.expected = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization;
    const token = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
    // Digests are of equal length, so the comparison takes the same time whatever was sent.
    if (token && timingSafeEqual(digest(token), this.expected)) return true;
    throw new UnauthorizedException({ error: 'unauthorized', message: 'metrics need Authorization: Bearer <METRICS_TOKEN>' });
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
