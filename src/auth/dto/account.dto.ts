import { ApiProperty } from '@nestjs/swagger';
import { USER_ROLES, type User, type UserRole } from '../user.entity.js';

/** Who is logged in: the body of GET /auth/me and the `user` of a login. */
export class AccountDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'bien-tap-vien' }) username: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty({ type: String, nullable: true, example: '01975', description: 'root of the area the user may act on; null for admins' })
  areaCode: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Xã Vi Hương' })
  areaName: string | null;
}

/** `user.area` must be loaded. */
export function toAccountDto(user: User): AccountDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    areaCode: user.area?.code ?? null,
    areaName: user.area?.name ?? null,
  };
}
