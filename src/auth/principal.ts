import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { UserRole } from './user.entity.js';

/** Who is calling, as carried in the JWT. Roles and area scopes are enforced from this later. */
export interface Principal {
  userId: string;
  username: string;
  role: UserRole;
  /** Root of the area subtree the user may act on; null for the whole tree. */
  areaCode: string | null;
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);
