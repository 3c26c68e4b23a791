import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { AccountDto, toAccountDto } from '../../auth/dto/account.dto.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../auth/dto/password.dto.js';
import { USER_ROLES, type User, type UserRole } from '../../auth/user.entity.js';
import { PageQueryDto } from '../../common/page.js';

export const USERNAME_PATTERN = /^[a-z0-9._-]{3,64}$/;

const roleMessage = { message: `role must be one of ${USER_ROLES.join(', ')}` };
const areaCodeMessage = { message: 'areaCode must be an area code such as 06, 063 or 01975' };

export class CreateUserDto {
  @ApiProperty({ example: 'bientap.vihuong', pattern: USERNAME_PATTERN.source })
  @IsString() @Matches(USERNAME_PATTERN, { message: 'username must be 3-64 lowercase letters, digits, ., - or _' })
  username: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH })
  @IsString() @MinLength(MIN_PASSWORD_LENGTH) @MaxLength(MAX_PASSWORD_LENGTH)
  password: string;

  @ApiProperty({ enum: USER_ROLES })
  @IsIn(USER_ROLES, roleMessage)
  role: UserRole;

  @ApiPropertyOptional({ type: String, nullable: true, example: '01975', description: 'required for every role but admin; admins have none' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, areaCodeMessage)
  areaCode?: string | null;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: USER_ROLES, description: 'promoting to admin clears the area unless areaCode is sent' })
  @IsOptional() @IsIn(USER_ROLES, roleMessage)
  role?: UserRole;

  @ApiPropertyOptional({ type: String, nullable: true, example: '01975' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, areaCodeMessage)
  areaCode?: string | null;

  @ApiPropertyOptional({ minLength: MIN_PASSWORD_LENGTH })
  @IsOptional() @IsString() @MinLength(MIN_PASSWORD_LENGTH) @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;
}

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional() @IsIn(USER_ROLES, roleMessage)
  role?: UserRole;

  @ApiPropertyOptional({ description: 'users bound to this area or to an area inside it' })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, areaCodeMessage)
  areaCode?: string;

  @ApiPropertyOptional({ description: 'part of the username, case-insensitive' })
  @IsOptional() @IsString() @MaxLength(64)
  q?: string;
}

export class UserDto extends AccountDto {
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

/** `user.area` must be loaded. Never carries the password hash. */
export function toUserDto(user: User): UserDto {
  return { ...toAccountDto(user), createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() };
}
