import { createHmac, randomBytes } from 'node:crypto';

/**
 * `X-Loa-Signature: sha256=<hex>` over `"<timestamp>.<raw body>"`. The timestamp is inside
 * the signed text so a receiver can refuse old requests replayed at it.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** 32 random bytes; shown once when the webhook is created. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}
