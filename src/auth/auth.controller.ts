import { Body, Controller, Get, HttpCode, Inject, Ip, Post, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthService } from './auth.service.js';
import { AccountDto } from './dto/account.dto.js';
import { LoginDto, RefreshDto, TokenDto, TooManyAttemptsDto } from './dto/login.dto.js';
import { ChangePasswordDto } from './dto/password.dto.js';
import { Requires } from './permissions.js';
import { CurrentPrincipal, type Principal } from './principal.js';
import { Public } from './public.decorator.js';
import { TooManyAttemptsFilter } from './too-many-attempts.js';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @UseFilters(TooManyAttemptsFilter)
  @ApiOkResponse({ type: TokenDto })
  @ApiUnauthorizedResponse({ description: 'wrong username or password (invalid-credentials)' })
  @ApiTooManyRequestsResponse({ type: TooManyAttemptsDto, description: 'too many failed logins for this username or from this address' })
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<TokenDto> {
    return this.auth.login(body.username, body.password, ip);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenDto, description: 'a new pair; the presented refresh token is used up' })
  @ApiUnauthorizedResponse({ description: 'unknown, expired or revoked refresh token; re-using a replaced one ends that login' })
  refresh(@Body() body: RefreshDto): Promise<TokenDto> {
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @Requires('account')
  @ApiNoContentResponse({ description: 'the login of this refresh token is ended' })
  logout(@Body() body: RefreshDto, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.auth.logout(principal, body.refreshToken);
  }

  @Get('me')
  @ApiOkResponse({ type: AccountDto })
  me(@CurrentPrincipal() principal: Principal): Promise<AccountDto> {
    return this.auth.me(principal);
  }

  @Post('password')
  @HttpCode(204)
  @Requires('account')
  @UseFilters(TooManyAttemptsFilter)
  @ApiNoContentResponse({ description: 'changed; every login of the user, this one included, is ended' })
  @ApiBadRequestResponse({ description: 'wrong current password (wrong-password) or a new password under 10 characters' })
  @ApiTooManyRequestsResponse({ type: TooManyAttemptsDto })
  changePassword(@Body() body: ChangePasswordDto, @CurrentPrincipal() principal: Principal, @Ip() ip: string): Promise<void> {
    return this.auth.changePassword(principal, body.currentPassword, body.newPassword, ip);
  }
}
