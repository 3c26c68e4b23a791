import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HASH_COST, hashSecret } from '../../src/common/secret-hash.js';
import type { UserRole } from '../../src/auth/user.entity.js';
import type { TestApp } from './test-app.js';

export interface TestUser {
  id: string;
  username: string;
  password: string;
  role: UserRole;
  areaCode: string | null;
  /** `Authorization` header value for this user */
  auth: string;
}

/**
 * A user of `role` bound to `areaCode` (null: the whole country), written straight into
 * the database so tests of other features do not depend on the users API, then logged in.
 */
export async function aUser(t: TestApp, role: UserRole, areaCode: string | null): Promise<TestUser> {
  const username = `${role}-${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const db = t.app.get(DataSource);
  const passwordHash = await hashSecret(password, HASH_COST.password);
  const [row] = (await db.query(
    `INSERT INTO users (username, password_hash, role, area_id)
     VALUES ($1, $2, $3, (SELECT id FROM areas WHERE code = $4))
     RETURNING id`,
    [username, passwordHash, role, areaCode],
  )) as { id: string }[];
  if (areaCode !== null) {
    const [bound] = (await db.query(`SELECT area_id FROM users WHERE id = $1`, [row.id])) as { area_id: string | null }[];
    if (!bound.area_id) throw new Error(`aUser: unknown area ${areaCode}`);
  }
  const login = await t.http().post('/api/v1/auth/login').send({ username, password });
  if (login.status !== 200) throw new Error(`aUser: login ${login.status} ${JSON.stringify(login.body)}`);
  return { id: row.id, username, password, role, areaCode, auth: `Bearer ${login.body.accessToken}` };
}
