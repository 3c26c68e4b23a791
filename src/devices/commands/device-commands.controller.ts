import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { uuidParam } from '../../common/uuid.js';
import { DeviceCommands } from './device-commands.service.js';
import { DeviceCommandDto, IssueCommandDto, IssuedCommandDto, ListCommandsQueryDto } from './dto/device-command.dto.js';

@ApiTags('devices')
@Controller('api/v1/devices/:code/commands')
export class DeviceCommandsController {
  constructor(@Inject(DeviceCommands) private readonly commands: DeviceCommands) {}

  @Post()
  @Requires('devices:command')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: IssuedCommandDto, description: 'published now and again every 10 s until acked or expired' })
  @ApiBadRequestResponse({ description: 'invalid body' })
  @ApiNotFoundResponse({ description: "no such active device in the caller's area" })
  issue(@Param('code') code: string, @Body() body: IssueCommandDto, @CurrentPrincipal() principal: Principal) {
    return this.commands.issue(code, body, principal);
  }

  @Get()
  @ApiOkResponse({ description: 'the device’s commands, newest first' })
  @ApiNotFoundResponse()
  list(@Param('code') code: string, @Query() query: ListCommandsQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.commands.list(code, query, principal);
  }

  @Get(':id')
  @ApiOkResponse({ type: DeviceCommandDto })
  @ApiNotFoundResponse({ description: 'this device has no such command' })
  get(@Param('code') code: string, @Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.commands.get(code, id, principal);
  }
}
