import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { signWebhook } from './webhook-signature.js';

export interface WebhookRequest {
  url: string;
  secret: string;
  deliveryId: string;
  eventType: string;
  /** The exact bytes to send (and sign). */
  body: string;
}

export interface WebhookOutcome {
  delivered: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  error: string | null;
}

/** One signed POST. Redirects are not followed: a 3xx is a failed attempt like any non-2xx. */
@Injectable()
export class WebhookSender {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  async send(request: WebhookRequest): Promise<WebhookOutcome> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await fetch(request.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.WEBHOOK_TIMEOUT_MS),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Loa-Webhooks/1',
          'X-Loa-Event': request.eventType,
          'X-Loa-Delivery': request.deliveryId,
          'X-Loa-Timestamp': String(timestamp),
          'X-Loa-Signature': signWebhook(request.secret, timestamp, request.body),
        },
        body: request.body,
      });
      // The answer's body is of no use; reading it to the end frees the connection.
      await res.arrayBuffer().catch(() => undefined);
      const delivered = res.status >= 200 && res.status < 300;
      return { delivered, status: res.status, error: delivered ? null : `HTTP ${res.status}` };
    } catch (err) {
      return { delivered: false, status: null, error: this.describe(err) };
    }
  }

  private describe(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return `no answer within ${this.config.WEBHOOK_TIMEOUT_MS} ms`;
    if (e.cause?.code) return `${e.cause.code}: ${e.cause.message ?? e.message}`;
    return e.message ?? String(err);
  }
}
