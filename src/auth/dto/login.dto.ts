import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString() @MinLength(1) @MaxLength(64)
  username: string;

  @ApiProperty({ example: 'change-me-please' })
  @IsString() @MinLength(1) @MaxLength(200)
  password: string;
}

export class TokenDto {
  @ApiProperty()
  accessToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ description: 'seconds until the token expires' })
  expiresIn: number;
}
