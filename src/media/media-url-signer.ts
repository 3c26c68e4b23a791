import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

const TOKEN_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/**
 * Signs the `token` of the media URLs devices are sent: `<exp>.<base64url HMAC-SHA256 of
 * "<mediaId>.<exp>">`, exp in epoch seconds. Its key is derived from JWT_SECRET under its
 * own context, so an API token can never pass for a media token or the other way round.
 */
@Injectable()
export class MediaUrlSigner {
  private readonly key: Buffer;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.JWT_SECRET, '', 'loa media url v1', 32));
  }

  sign(mediaId: string, expiresAt: Date): string {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    return `${exp}.${this.mac(mediaId, exp).toString('base64url')}`;
  }

  /** True only for an unexpired token signed for this very media. */
  verify(mediaId: string, token: string, now = new Date()): boolean {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return false;
    const exp = Number(match[1]);
    if (exp * 1000 <= now.getTime()) return false;
    const given = Buffer.from(match[2], 'base64url');
    const expected = this.mac(mediaId, exp);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(mediaId: string, exp: number): Buffer {
    return createHmac('sha256', this.key).update(`${mediaId}.${exp}`).digest();
  }
}
