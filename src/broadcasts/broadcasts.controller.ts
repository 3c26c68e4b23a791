import { Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { BroadcastsService } from './broadcasts.service.js';
import { CreateBroadcastDto } from './dto/create-broadcast.dto.js';
import { ListBroadcastsQueryDto } from './dto/list-broadcasts.dto.js';

@ApiTags('broadcasts')
@ApiBearerAuth()
@Controller('api/v1/broadcasts')
export class BroadcastsController {
  constructor(@Inject(BroadcastsService) private readonly broadcasts: BroadcastsService) {}

  @Post()
  create(@Body() dto: CreateBroadcastDto, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.create(dto, principal);
  }

  @Get()
  list(@Query() query: ListBroadcastsQueryDto) {
    return this.broadcasts.list(query);
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.broadcasts.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.broadcasts.cancel(id, principal);
  }
}
