import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { uuidParam } from '../common/uuid.js';
import { CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('api/v1/users')
@Requires('users:admin')
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Post()
  @ApiCreatedResponse({ type: UserDto })
  @ApiBadRequestResponse({ description: 'invalid body, a non-admin without an area, an admin with one, or an unknown area (unknown-area)' })
  @ApiConflictResponse({ description: 'the username is taken (username-taken)' })
  create(@Body() body: CreateUserDto, @CurrentPrincipal() principal: Principal): Promise<UserDto> {
    return this.users.create(body, principal);
  }

  @Get()
  @ApiOkResponse({ description: 'a page of UserDto' })
  list(@Query() query: ListUsersQueryDto) {
    return this.users.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse()
  get(@Param('id', uuidParam('id')) id: string): Promise<UserDto> {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserDto, description: 'a change of role, area or password ends every login of the user' })
  @ApiConflictResponse({ description: 'the last admin cannot be demoted (last-admin)' })
  update(@Param('id', uuidParam('id')) id: string, @Body() body: UpdateUserDto, @CurrentPrincipal() principal: Principal): Promise<UserDto> {
    return this.users.update(id, body, principal);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'deleting yourself (self-delete) or the last admin (last-admin)' })
  remove(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.users.remove(id, principal);
  }
}
