import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { updateReturning } from '../common/postgres.js';

/** A stored refresh token with the name of its owner, for log lines. */
export interface StoredRefreshToken {
  id: string;
  userId: string;
  username: string;
  familyId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  replacedBy: string | null;
}

/** The `refresh_tokens` table. Every method runs inside the caller's transaction. */
@Injectable()
export class RefreshTokensRepository {
  async insert(m: EntityManager, token: { userId: string; familyId: string; tokenHash: string; ttlS: number }): Promise<string> {
    const [row] = (await m.query(
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       RETURNING id`,
      [token.userId, token.familyId, token.tokenHash, token.ttlS],
    )) as { id: string }[];
    return row.id;
  }

  /** The token with this hash, locked until the transaction ends so two refreshes of it queue up. */
  async findForUpdate(m: EntityManager, tokenHash: string): Promise<StoredRefreshToken | null> {
    const [row] = (await m.query(
      `SELECT t.id, t.user_id AS "userId", u.username, t.family_id AS "familyId", t.expires_at AS "expiresAt",
              t.revoked_at AS "revokedAt", t.replaced_by AS "replacedBy"
         FROM refresh_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1
          FOR UPDATE OF t`,
      [tokenHash],
    )) as StoredRefreshToken[];
    return row ?? null;
  }

  async markReplaced(m: EntityManager, id: string, replacedBy: string): Promise<void> {
    await m.query(`UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1`, [id, replacedBy]);
  }

  /** Ends one login; returns how many live tokens it had. */
  async revokeFamily(m: EntityManager, familyId: string): Promise<number> {
    const rows = await updateReturning<{ id: string }>(
      m,
      `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL RETURNING id`,
      [familyId],
    );
    return rows.length;
  }

  /** Ends the login `tokenHash` belongs to, if it belongs to `userId`. */
  async revokeFamilyOfToken(m: EntityManager, userId: string, tokenHash: string): Promise<void> {
    await m.query(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL
          AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $2 AND user_id = $1)`,
      [userId, tokenHash],
    );
  }

  async revokeAllOf(m: EntityManager, userId: string): Promise<void> {
    await m.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
  }

  /** Expired rows serve no purpose (not even reuse detection: an expired token is refused anyway). */
  async deleteExpiredOf(m: EntityManager, userId: string): Promise<void> {
    await m.query(`DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < now()`, [userId]);
  }
}
