import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { uuidParam } from '../common/uuid.js';
import { BulletinsService } from './bulletins.service.js';
import { BulletinDto, CreateBulletinDto, ListBulletinsQueryDto, RejectBulletinDto, UpdateBulletinDto } from './dto/bulletin.dto.js';

@ApiTags('bulletins')
@Controller('api/v1/bulletins')
export class BulletinsController {
  constructor(@Inject(BulletinsService) private readonly bulletins: BulletinsService) {}

  @Post()
  @Requires('bulletins:write')
  @ApiCreatedResponse({ type: BulletinDto, description: "a draft, in the author's area unless areaCode says otherwise" })
  @ApiBadRequestResponse({ description: "invalid body, or the media does not exist in the caller's area (error \"unknown-media\")" })
  create(@Body() body: CreateBulletinDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.create(body, principal);
  }

  @Get()
  @ApiOkResponse({ description: "a page of the caller's bulletins, newest first" })
  list(@Query() query: ListBulletinsQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.list(query, principal);
  }

  @Get(':id')
  @ApiOkResponse({ type: BulletinDto })
  @ApiNotFoundResponse({ description: "unknown, or outside the caller's area" })
  get(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.get(id, principal);
  }

  @Patch(':id')
  @Requires('bulletins:write')
  @ApiOkResponse({ type: BulletinDto, description: 'edited; it is a draft again and must be resubmitted' })
  @ApiBadRequestResponse({ description: "invalid body, or the media does not exist in the caller's area" })
  @ApiNotFoundResponse()
  edit(@Param('id', uuidParam('id')) id: string, @Body() body: UpdateBulletinDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.edit(id, body, principal);
  }

  @Post(':id/submit')
  @Requires('bulletins:write')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'submitted for approval' })
  @ApiConflictResponse({ description: 'only a draft or rejected bulletin can be submitted (error "invalid-transition")' })
  submit(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.submit(id, principal);
  }

  @Post(':id/approve')
  @Requires('bulletins:review')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'approved: it may be broadcast' })
  @ApiConflictResponse({ description: 'only a submitted bulletin can be approved (error "invalid-transition")' })
  approve(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.approve(id, principal);
  }

  @Post(':id/reject')
  @Requires('bulletins:review')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'rejected with a reason; it may be edited and resubmitted' })
  @ApiConflictResponse({ description: 'only a submitted bulletin can be rejected (error "invalid-transition")' })
  reject(@Param('id', uuidParam('id')) id: string, @Body() body: RejectBulletinDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.reject(id, principal, body.reason);
  }
}
