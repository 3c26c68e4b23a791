import { SetMetadata } from '@nestjs/common';
import type { UserRole } from './user.entity.js';

/**
 * What a role may do. Scope (which area subtree) is checked separately, by the services,
 * because only they know which area an object belongs to.
 */
export const PERMISSIONS = {
  /** Every GET: areas, devices, media, bulletins, broadcasts, as-run log, events, alarms, reports. */
  read: ['admin', 'editor', 'approver', 'operator'],
  /** One's own account: password change, token refresh, logout. */
  account: ['admin', 'editor', 'approver', 'operator'],
  'media:write': ['admin', 'editor'],
  'bulletins:write': ['admin', 'editor'],
  'bulletins:review': ['admin', 'approver'],
  'broadcasts:write': ['admin', 'editor'],
  /** Approve a submitted bulletin and broadcast it as an emergency, in one step. */
  'broadcasts:emergency': ['admin', 'approver'],
  'devices:command': ['admin', 'operator'],
  'alarms:acknowledge': ['admin', 'operator'],
  /** Areas and the device registry (provision, edit, decommission, rotate secrets). */
  'fleet:admin': ['admin'],
  'users:admin': ['admin'],
  'audit:read': ['admin'],
  'webhooks:admin': ['admin'],
} as const satisfies Record<string, readonly UserRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export const REQUIRES = 'loa:requires';

/**
 * The permission a route needs. A route without it needs `read` for GET and HEAD and
 * `admin` rights for anything else, so a new mutation is locked down until someone decides.
 */
export const Requires = (permission: Permission) => SetMetadata(REQUIRES, permission);

export function roleMay(role: UserRole, permission: Permission | 'admin-only'): boolean {
  if (permission === 'admin-only') return role === 'admin';
  return (PERMISSIONS[permission] as readonly UserRole[]).includes(role);
}
