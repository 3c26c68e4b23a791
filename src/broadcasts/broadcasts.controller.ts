import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { BroadcastsService } from './broadcasts.service.js';
import { CreateBroadcastDto } from './dto/create-broadcast.dto.js';
import { EmergencyBroadcastDto } from './dto/emergency-broadcast.dto.js';
import { ListBroadcastsQueryDto } from './dto/list-broadcasts.dto.js';

@ApiTags('broadcasts')
@ApiBearerAuth()
@Controller('api/v1/broadcasts')
export class BroadcastsController {
  constructor(@Inject(BroadcastsService) private readonly broadcasts: BroadcastsService) {}

  @Post()
  @Requires('broadcasts:write')
  @ApiNotFoundResponse({ description: "the bulletin is unknown or outside the caller's area" })
  create(@Body() dto: CreateBroadcastDto, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.create(dto, principal);
  }

  @Post('emergency')
  @Requires('broadcasts:emergency')
  @ApiCreatedResponse({ description: '{ bulletin, broadcast }: the bulletin approved and a `now` emergency broadcast of it, in one transaction' })
  @ApiNotFoundResponse({ description: "the bulletin is unknown or outside the caller's area" })
  @ApiConflictResponse({ description: 'the bulletin is neither submitted nor approved, or the broadcast is refused; the bulletin is left as it was' })
  createEmergency(@Body() dto: EmergencyBroadcastDto, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.createEmergency(dto, principal);
  }

  @Get()
  list(@Query() query: ListBroadcastsQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.list(query, principal);
  }

  @Get(':id')
  @ApiNotFoundResponse({ description: "unknown, or outside the caller's area" })
  get(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.get(id, principal);
  }

  @Post(':id/cancel')
  @Requires('broadcasts:write')
  @HttpCode(200)
  cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.cancel(id, principal);
  }
}
