import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { pageOf, type Page } from '../common/page.js';
import type { AuditOutcome } from './audit-entry.entity.js';
import { AuditLogRepository } from './audit-log.repository.js';
import { auditSubjectOf, BEFORE_IMAGES, isKeyOf, type AuditSubject } from './audit-subjects.js';
import { summarise } from './audit-summary.js';
import { toAuditEntryDto, type AuditEntryDto, type ListAuditQueryDto } from './dto/audit.dto.js';

/** The parts of an Express request the trail reads. */
export interface AuditedRequest {
  method: string;
  path: string;
  ip?: string;
  route?: { path?: string };
  params?: Record<string, string>;
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
  /** Set once the request has its entry, so it never gets two. */
  audited?: boolean;
}

export const AUDITED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Writes the audit log: every state-changing API call, whoever made it and however it ended.
 * Writing an entry never fails the call it describes — a lost entry is logged as an error
 * an operator must look at — but a successful call is answered only once its entry is
 * written, so an acknowledged change always has its trail.
 */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger(AuditTrail.name);

  constructor(@Inject(AuditLogRepository) private readonly log: AuditLogRepository) {}

  isAudited(request: AuditedRequest): boolean {
    return AUDITED_METHODS.has(request.method) && !request.audited;
  }

  subjectOf(request: AuditedRequest): AuditSubject {
    return auditSubjectOf(request.method, this.routeOf(request));
  }

  /** The resource as it was before the call, or null when it has no before-image. */
  async beforeImage(request: AuditedRequest, subject: AuditSubject): Promise<unknown> {
    const image = subject.resourceType ? BEFORE_IMAGES[subject.resourceType] : undefined;
    const key = subject.param ? request.params?.[subject.param] : undefined;
    if (!image || !subject.changesParamResource || !key || !isKeyOf(image.key, key)) return null;
    try {
      return summarise(await this.log.rowAsJson(image.sql, key));
    } catch (err) {
      this.logger.warn(`audit: no before-image of ${subject.resourceType} ${key}: ${String(err)}`);
      return null;
    }
  }

  /** Records a call the handler answered with `body`. */
  async succeeded(request: AuditedRequest, subject: AuditSubject, statusCode: number, before: unknown, body: unknown): Promise<void> {
    await this.write(request, subject, { statusCode, outcome: 'ok', before, after: summarise(body), body });
  }

  /** Records a call that ended in `error`, wherever it was thrown (guard, pipe or handler). */
  async failed(request: AuditedRequest, subject: AuditSubject, error: unknown, before: unknown = null): Promise<void> {
    const statusCode = error instanceof HttpException ? error.getStatus() : 500;
    const response = error instanceof HttpException ? error.getResponse() : { error: 'internal' };
    await this.write(request, subject, { statusCode, outcome: outcomeOf(statusCode), before, after: summarise(response), body: undefined });
  }

  /** Records a call known only by the status it was answered with. */
  async answered(request: AuditedRequest, subject: AuditSubject, statusCode: number): Promise<void> {
    await this.write(request, subject, { statusCode, outcome: outcomeOf(statusCode), before: null, after: null, body: undefined });
  }

  async page(query: ListAuditQueryDto): Promise<Page<AuditEntryDto>> {
    const [entries, total] = await this.log.findPage(query);
    return pageOf(entries.map(toAuditEntryDto), total, query);
  }

  private async write(
    request: AuditedRequest,
    subject: AuditSubject,
    result: { statusCode: number; outcome: AuditOutcome; before: unknown; after: unknown; body: unknown },
  ): Promise<void> {
    request.audited = true;
    const principal = request.principal;
    const responseUser = userOf(result.body);
    const entry = {
      userId: principal?.userId ?? responseUser?.id ?? null,
      username: principal?.username ?? responseUser?.username ?? (subject.action === 'auth.login' ? attemptedUsername(request) : undefined) ?? null,
      role: principal?.role ?? responseUser?.role ?? null,
      method: request.method,
      route: clip(this.routeOf(request), 200),
      action: clip(subject.action, 100),
      resourceType: subject.resourceType,
      resourceId: clip(resourceIdOf(request, subject, result.body, principal), 100),
      statusCode: result.statusCode,
      outcome: result.outcome,
      before: result.before,
      after: result.after,
      ip: clip(request.ip ?? null, 64),
      userAgent: clip(headerOf(request, 'user-agent'), 200),
    };
    try {
      await this.log.append(entry);
    } catch (err) {
      this.logger.error(
        `audit entry LOST for ${entry.method} ${entry.route} by ${entry.username ?? 'anonymous'} (${entry.statusCode}): ${String(err)} — check Postgres`,
      );
    }
  }

  private routeOf(request: AuditedRequest): string {
    return request.route?.path ?? request.path;
  }
}

function outcomeOf(statusCode: number): AuditOutcome {
  if (statusCode < 400) return 'ok';
  return statusCode === 401 || statusCode === 403 || statusCode === 429 ? 'denied' : 'failed';
}

function resourceIdOf(request: AuditedRequest, subject: AuditSubject, body: unknown, principal: Principal | undefined): string | null {
  if (subject.resourceType === 'user' && subject.action.startsWith('auth.')) return principal?.userId ?? userOf(body)?.id ?? null;
  if (subject.param) return request.params?.[subject.param] ?? null;
  // A creation: the new resource's id or code, as its answer gives it.
  if (body && typeof body === 'object') {
    const { id, code } = body as { id?: unknown; code?: unknown };
    if (typeof id === 'string') return id;
    if (typeof code === 'string') return code;
    const nested = (body as { broadcast?: { id?: unknown } }).broadcast?.id;
    if (typeof nested === 'string') return nested;
  }
  return null;
}

/** The user a login or refresh answered with. */
function userOf(body: unknown): { id?: string; username?: string; role?: Principal['role'] } | undefined {
  const user = body && typeof body === 'object' ? (body as { user?: unknown }).user : undefined;
  return user && typeof user === 'object' ? (user as { id?: string; username?: string; role?: Principal['role'] }) : undefined;
}

/** For a login, the name tried (never the password), so failed attempts say whom they aimed at. */
function attemptedUsername(request: AuditedRequest): string | undefined {
  const username = (request.body as { username?: unknown } | undefined)?.username;
  return typeof username === 'string' ? username.slice(0, 64) : undefined;
}

function headerOf(request: AuditedRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' ? value : null;
}

function clip<T extends string | null>(value: T, max: number): T {
  return (value === null ? null : value.slice(0, max)) as T;
}
