import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';
import { isUuid } from '../common/uuid.js';
import type { Principal } from './principal.js';
import type { UserRole } from './user.entity.js';

/** What an access token carries: who, and which generation of their credentials. */
export interface AccessClaims {
  sub: string;
  tv: number;
}

interface AccountRow {
  id: string;
  username: string;
  role: UserRole;
  tokenVersion: number;
  areaCode: string | null;
  areaPath: string | null;
}

/**
 * How long a user's row is trusted without asking Postgres again. Every request needs it,
 * so a short cache saves a query per request; a change made on this instance is seen at
 * once (forget()), one made on another instance within this time.
 */
const ACCOUNT_CACHE_MS = 5_000;
const ACCOUNT_CACHE_MAX = 10_000;

/**
 * Reads the operator's `Authorization: Bearer <JWT>` and attaches the Principal to the
 * request. The role and area come from the database, not the token, so a demotion, a move
 * or a deletion takes effect within seconds rather than at the token's expiry.
 */
@Injectable()
export class OperatorAuthenticator {
  private readonly cache = new Map<string, { row: AccountRow | null; until: number }>();
  private readonly loading = new Map<string, Promise<AccountRow | null>>();

  constructor(
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(DataSource) private readonly db: DataSource,
  ) {}

  async authenticate(request: { headers?: Record<string, unknown>; principal?: Principal }): Promise<Principal> {
    const header = request.headers?.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException({ error: 'unauthorized', message: 'missing bearer token' });
    let claims: Partial<AccessClaims>;
    try {
      claims = await this.jwt.verifyAsync<Partial<AccessClaims>>(match[1]);
    } catch {
      throw invalidToken();
    }
    if (typeof claims.sub !== 'string' || !isUuid(claims.sub) || typeof claims.tv !== 'number') throw invalidToken();
    const account = await this.account(claims.sub);
    // A different version means the password, role or area changed after the token was issued.
    if (!account || account.tokenVersion !== claims.tv) throw invalidToken();
    request.principal = {
      userId: account.id,
      username: account.username,
      role: account.role,
      areaCode: account.areaCode,
      areaPath: account.areaPath,
    } satisfies Principal;
    return request.principal;
  }

  /** Drops the cached row of `userId`; call it after the transaction that changed the user commits. */
  forget(userId: string): void {
    this.cache.delete(userId);
    this.loading.delete(userId);
  }

  private account(userId: string): Promise<AccountRow | null> {
    const cached = this.cache.get(userId);
    if (cached && cached.until > Date.now()) return Promise.resolve(cached.row);
    // Concurrent requests of one user share one query.
    const pending = this.loading.get(userId);
    if (pending) return pending;
    const load: Promise<AccountRow | null> = this.load(userId)
      .then((row) => {
        // A forget() while loading means the row may be stale: serve it to this request only.
        if (this.loading.get(userId) === load) this.remember(userId, row);
        return row;
      })
      .finally(() => {
        if (this.loading.get(userId) === load) this.loading.delete(userId);
      });
    this.loading.set(userId, load);
    return load;
  }

  private async load(userId: string): Promise<AccountRow | null> {
    const [row] = (await this.db.query(
      `SELECT u.id, u.username, u.role, u.token_version AS "tokenVersion", a.code AS "areaCode", a.path AS "areaPath"
         FROM users u LEFT JOIN areas a ON a.id = u.area_id
        WHERE u.id = $1::uuid`,
      [userId],
    )) as AccountRow[];
    return row ?? null;
  }

  private remember(userId: string, row: AccountRow | null): void {
    const now = Date.now();
    if (this.cache.size >= ACCOUNT_CACHE_MAX) {
      for (const [id, entry] of this.cache) if (entry.until <= now) this.cache.delete(id);
      if (this.cache.size >= ACCOUNT_CACHE_MAX) this.cache.clear();
    }
    this.cache.set(userId, { row, until: now + ACCOUNT_CACHE_MS });
  }
}

function invalidToken(): UnauthorizedException {
  return new UnauthorizedException({ error: 'unauthorized', message: 'invalid or expired token' });
}
