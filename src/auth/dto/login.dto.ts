import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { AccountDto } from './account.dto.js';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString() @MinLength(1) @MaxLength(64)
  username: string;

  @ApiProperty({ example: 'change-me-please' })
  @IsString() @MinLength(1) @MaxLength(200)
  password: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'the refresh token of the last login or refresh' })
  @IsString() @MinLength(1) @MaxLength(200)
  refreshToken: string;
}

export class TokenDto {
  @ApiProperty()
  accessToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'seconds until the access token expires' })
  expiresIn: number;

  @ApiProperty({ description: 'single use: POST /auth/refresh exchanges it for a new pair' })
  refreshToken: string;

  @ApiProperty({ description: 'seconds until the refresh token expires' })
  refreshExpiresIn: number;

  @ApiProperty({ type: AccountDto })
  user: AccountDto;
}

export class TooManyAttemptsDto {
  @ApiProperty({ example: 'too-many-attempts' }) error: 'too-many-attempts';
  @ApiProperty() message: string;
  @ApiProperty({ description: 'also sent as the Retry-After header' }) retryAfterS: number;
}
