import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AlarmThresholds } from './alarm-thresholds.service.js';
import { AlarmThresholdDto, PutAlarmThresholdDto } from './dto/alarm-threshold.dto.js';

@ApiTags('alarms')
@Controller('api/v1/alarm-thresholds')
export class AlarmThresholdsController {
  constructor(@Inject(AlarmThresholds) private readonly thresholds: AlarmThresholds) {}

  @Get(':areaCode')
  @ApiOkResponse({ type: AlarmThresholdDto })
  @ApiNotFoundResponse({ description: 'no such area in the caller’s scope' })
  get(@CurrentPrincipal() principal: Principal, @Param('areaCode') areaCode: string) {
    return this.thresholds.get(principal, areaCode);
  }

  @Put(':areaCode')
  @Requires('fleet:admin')
  @ApiOkResponse({ type: AlarmThresholdDto })
  put(@CurrentPrincipal() principal: Principal, @Param('areaCode') areaCode: string, @Body() body: PutAlarmThresholdDto) {
    return this.thresholds.put(principal, areaCode, body.offlineAfterS);
  }
}
