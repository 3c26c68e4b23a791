import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { UserRole } from './user.entity.js';

/** Who is calling. Roles are enforced by the guard (permissions.ts); scopes by the services (scope.ts). */
export interface Principal {
  userId: string;
  username: string;
  role: UserRole;
  /** Root of the area subtree the user may act on; null for the whole tree (admins). */
  areaCode: string | null;
  /** Materialised path of that root (`/06/063/`); null for the whole tree. */
  areaPath: string | null;
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);
