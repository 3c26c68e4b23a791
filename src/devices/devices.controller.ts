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
import { DevicesService } from './devices.service.js';
import {
  CreateDeviceDto,
  DeviceDto,
  ListDevicesQueryDto,
  ProvisionedDeviceDto,
  SecretDto,
  StateChangesQueryDto,
  UpdateDeviceDto,
} from './dto/device.dto.js';

@ApiTags('devices')
@Controller('api/v1/devices')
export class DevicesController {
  constructor(@Inject(DevicesService) private readonly devices: DevicesService) {}

  @Post()
  @Requires('fleet:admin')
  @ApiCreatedResponse({ type: ProvisionedDeviceDto, description: 'the secret is returned this once' })
  @ApiBadRequestResponse({ description: 'invalid body or unknown area' })
  @ApiConflictResponse({ description: 'the code is taken' })
  provision(@Body() body: CreateDeviceDto, @CurrentPrincipal() principal: Principal) {
    return this.devices.provision(body, principal);
  }

  @Get()
  @ApiOkResponse({ description: "a page of the caller's active devices" })
  list(@Query() query: ListDevicesQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.devices.list(query, principal);
  }

  @Get(':code')
  @ApiOkResponse({ type: DeviceDto })
  @ApiNotFoundResponse({ description: "unknown, or outside the caller's area" })
  get(@Param('code') code: string, @CurrentPrincipal() principal: Principal) {
    return this.devices.get(code, principal);
  }

  @Patch(':code')
  @Requires('fleet:admin')
  @ApiOkResponse({ type: DeviceDto })
  @ApiConflictResponse({ description: 'the device is decommissioned' })
  update(@Param('code') code: string, @Body() body: UpdateDeviceDto, @CurrentPrincipal() principal: Principal) {
    return this.devices.update(code, body, principal);
  }

  @Delete(':code')
  @Requires('fleet:admin')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'decommissioned: its session is closed and it can no longer connect' })
  decommission(@Param('code') code: string, @CurrentPrincipal() principal: Principal) {
    return this.devices.decommission(code, principal);
  }

  @Post(':code/rotate-secret')
  @Requires('fleet:admin')
  @HttpCode(200)
  @ApiOkResponse({ type: SecretDto, description: 'the new secret, returned this once; the live session is closed' })
  rotateSecret(@Param('code') code: string, @CurrentPrincipal() principal: Principal) {
    return this.devices.rotateSecret(code, principal);
  }

  @Get(':code/state-changes')
  @ApiOkResponse({ description: 'state history, newest first' })
  history(@Param('code') code: string, @Query() query: StateChangesQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.devices.history(code, query, principal);
  }
}
