import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { toAccountDto } from './dto/account.dto.js';
import type { TokenDto } from './dto/login.dto.js';
import type { AccessClaims } from './operator-authenticator.js';
import { RefreshTokensRepository } from './refresh-tokens.repository.js';
import { User } from './user.entity.js';

/**
 * A login is a short-lived access token (a JWT, checked without a lookup of its own) and
 * an opaque refresh token, stored hashed, that is exchanged for a new pair. The refresh
 * tokens of one login form a family; re-use of a replaced one revokes the family.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    @Inject(RefreshTokensRepository) private readonly refreshTokens: RefreshTokensRepository,
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /** A new login of `user` (with its area loaded). */
  async open(user: User): Promise<TokenDto> {
    const refreshToken = newRefreshToken();
    await this.db.transaction(async (m) => {
      await this.refreshTokens.deleteExpiredOf(m, user.id);
      await this.refreshTokens.insert(m, { userId: user.id, familyId: randomUUID(), tokenHash: sha256(refreshToken), ttlS: this.config.REFRESH_TTL_S });
    });
    return this.tokenBody(user, refreshToken);
  }

  /** Exchanges a refresh token for a new pair; the presented token is used up. */
  async rotate(presented: string): Promise<TokenDto> {
    const next = newRefreshToken();
    // Decided inside the transaction, thrown after it: revoking a family must commit even though the caller gets a 401.
    const outcome = await this.db.transaction(async (m): Promise<{ userId: string } | { refused: string }> => {
      const stored = await this.refreshTokens.findForUpdate(m, sha256(presented));
      if (!stored) return { refused: 'unknown' };
      if (stored.replacedBy) {
        const revoked = await this.refreshTokens.revokeFamily(m, stored.familyId);
        this.logger.warn(
          `refresh token of "${stored.username}" presented again after it was replaced: ended that login (family ${stored.familyId}, ${revoked} live token(s) revoked). ` +
            `Either two clients share one login or the token was copied; if the user did not expect to be logged out, change their password.`,
        );
        return { refused: 'reused' };
      }
      if (stored.revokedAt) return { refused: 'revoked' };
      if (stored.expiresAt.getTime() <= Date.now()) return { refused: 'expired' };
      const replacement = await this.refreshTokens.insert(m, {
        userId: stored.userId,
        familyId: stored.familyId,
        tokenHash: sha256(next),
        ttlS: this.config.REFRESH_TTL_S,
      });
      await this.refreshTokens.markReplaced(m, stored.id, replacement);
      return { userId: stored.userId };
    });
    if ('refused' in outcome) throw invalidRefreshToken();
    const user = await this.users.findOne({ where: { id: outcome.userId }, relations: { area: true } });
    if (!user) throw invalidRefreshToken();
    return this.tokenBody(user, next);
  }

  /** Ends the login the refresh token belongs to (only if it is the caller's). */
  async close(userId: string, presented: string): Promise<void> {
    await this.db.transaction((m) => this.refreshTokens.revokeFamilyOfToken(m, userId, sha256(presented)));
  }

  /**
   * Ends every login of `userId`: access tokens by bumping the token version, refresh tokens
   * by revoking them. Runs in the caller's transaction; the caller then calls
   * OperatorAuthenticator.forget(userId) once it commits.
   */
  async endAll(m: EntityManager, userId: string): Promise<void> {
    await m.query(`UPDATE users SET token_version = token_version + 1 WHERE id = $1`, [userId]);
    await this.refreshTokens.revokeAllOf(m, userId);
  }

  private async tokenBody(user: User, refreshToken: string): Promise<TokenDto> {
    const claims: AccessClaims = { sub: user.id, tv: user.tokenVersion };
    return {
      accessToken: await this.jwt.signAsync(claims),
      tokenType: 'Bearer',
      expiresIn: this.config.JWT_TTL_S,
      refreshToken,
      refreshExpiresIn: this.config.REFRESH_TTL_S,
      user: toAccountDto(user),
    };
  }
}

function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function invalidRefreshToken(): UnauthorizedException {
  return new UnauthorizedException({ error: 'invalid-refresh-token', message: 'the refresh token is unknown, expired or revoked: log in again' });
}
