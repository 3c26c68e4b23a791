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
  @ApiCreatedResponse({ type: ProvisionedDeviceDto, description: 'the secret is returned this once' })
  @ApiBadRequestResponse({ description: 'invalid body or unknown area' })
  @ApiConflictResponse({ description: 'the code is taken' })
  provision(@Body() body: CreateDeviceDto) {
    return this.devices.provision(body);
  }

  @Get()
  @ApiOkResponse({ description: 'a page of active devices' })
  list(@Query() query: ListDevicesQueryDto) {
    return this.devices.list(query);
  }

  @Get(':code')
  @ApiOkResponse({ type: DeviceDto })
  @ApiNotFoundResponse()
  get(@Param('code') code: string) {
    return this.devices.get(code);
  }

  @Patch(':code')
  @ApiOkResponse({ type: DeviceDto })
  @ApiConflictResponse({ description: 'the device is decommissioned' })
  update(@Param('code') code: string, @Body() body: UpdateDeviceDto) {
    return this.devices.update(code, body);
  }

  @Delete(':code')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'decommissioned: its session is closed and it can no longer connect' })
  decommission(@Param('code') code: string) {
    return this.devices.decommission(code);
  }

  @Post(':code/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: SecretDto, description: 'the new secret, returned this once; the live session is closed' })
  rotateSecret(@Param('code') code: string) {
    return this.devices.rotateSecret(code);
  }

  @Get(':code/state-changes')
  @ApiOkResponse({ description: 'state history, newest first' })
  history(@Param('code') code: string, @Query() query: StateChangesQueryDto) {
    return this.devices.history(code, query);
  }
}
