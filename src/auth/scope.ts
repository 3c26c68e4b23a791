import { NotFoundException } from '@nestjs/common';
import { escapeLike } from '../common/postgres.js';
import type { Principal } from './principal.js';

/**
 * Area scopes. A non-admin user is bound to one area subtree, named by its materialised
 * path (`/06/063/01975/`). Objects outside it are reported as not found (404), never as
 * forbidden, so a scope cannot be probed for what exists next door.
 */

/** The subtree root's path, or null when the caller sees the whole country. */
export function scopePathOf(principal: Principal): string | null {
  if (principal.role === 'admin') return null;
  // Fail closed: a non-admin without an area (the users API never makes one) sees nothing.
  return principal.areaPath ?? NO_AREA;
}

/** A path no area has (paths are `/code/…/`), so it matches nothing. */
const NO_AREA = '/\u0000/';

/**
 * True when an object at `path` (an area path; null for national objects that belong to no
 * area) lies inside the caller's subtree.
 */
export function inScope(principal: Principal, path: string | null | undefined): boolean {
  const scope = scopePathOf(principal);
  if (scope === null) return true;
  return typeof path === 'string' && path.startsWith(scope);
}

/** A LIKE pattern matching every path in the caller's subtree, or null for no restriction. */
export function scopeLikePattern(principal: Principal): string | null {
  const scope = scopePathOf(principal);
  return scope === null ? null : `${escapeLike(scope)}%`;
}

/** Throws the same 404 a missing object gets when `path` is outside the caller's scope. */
export function assertInScope(principal: Principal, path: string | null | undefined, notFound: () => NotFoundException): void {
  if (!inScope(principal, path)) throw notFound();
}
