import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AlarmsService } from './alarms.service.js';
import { AcknowledgeAlarmDto, AlarmDto, ListAlarmsQueryDto } from './dto/alarm.dto.js';

@ApiTags('alarms')
@Controller('api/v1/alarms')
export class AlarmsController {
  constructor(@Inject(AlarmsService) private readonly alarms: AlarmsService) {}

  @Get()
  @ApiOkResponse({ description: 'a page of alarms in the caller’s area, newest first' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListAlarmsQueryDto) {
    return this.alarms.list(principal, query);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Requires('alarms:acknowledge')
  @ApiOkResponse({ type: AlarmDto })
  @ApiNotFoundResponse({ description: 'no such alarm in the caller’s area' })
  @ApiConflictResponse({ description: 'already acknowledged' })
  acknowledge(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: AcknowledgeAlarmDto) {
    return this.alarms.acknowledge(principal, id, body);
  }
}
