import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { UserRole } from '../auth/user.entity.js';

export const AUDIT_OUTCOMES = ['ok', 'failed', 'denied'] as const;
/** `ok`: 2xx/3xx; `denied`: refused for who the caller is (401, 403, 429); `failed`: any other error. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * One state-changing API call. Append-only, with no foreign keys: the trail must outlive the
 * users and objects it names.
 */
@Entity('audit_log')
@Index('IDX_audit_log_at', ['at'])
@Index('IDX_audit_log_resource', ['resourceType', 'resourceId'])
@Index('IDX_audit_log_username_at', ['username', 'at'])
export class AuditEntry {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  /** The caller, or for a login the username tried. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  role: UserRole | null;

  @Column({ type: 'varchar', length: 8 })
  method: string;

  /** The route pattern, `/api/v1/bulletins/:id/approve`. */
  @Column({ type: 'varchar', length: 200 })
  route: string;

  /** `bulletin.approve`, `device.create`, `auth.login` … */
  @Column({ type: 'varchar', length: 100 })
  action: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 40, nullable: true })
  resourceType: string | null;

  @Column({ name: 'resource_id', type: 'varchar', length: 100, nullable: true })
  resourceId: string | null;

  @Column({ name: 'status_code', type: 'smallint' })
  statusCode: number;

  @Column({ type: 'varchar', length: 8 })
  outcome: AuditOutcome;

  @Column({ type: 'jsonb', nullable: true })
  before: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after: unknown;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 200, nullable: true })
  userAgent: string | null;
}
