import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { BulletinsService } from './bulletins.service.js';
import { BulletinDto, CreateBulletinDto, ListBulletinsQueryDto, RejectBulletinDto, UpdateBulletinDto } from './dto/bulletin.dto.js';

/** A malformed id is the caller's mistake, reported like every other validation error. */
function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException({ error: 'validation', message: [`${name} must be a UUID`] }) });
}

@ApiTags('bulletins')
@Controller('api/v1/bulletins')
export class BulletinsController {
  constructor(@Inject(BulletinsService) private readonly bulletins: BulletinsService) {}

  @Post()
  @ApiCreatedResponse({ type: BulletinDto, description: 'a draft' })
  @ApiBadRequestResponse({ description: 'invalid body, or the media does not exist (error "unknown-media")' })
  create(@Body() body: CreateBulletinDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.create(body, principal.userId);
  }

  @Get()
  @ApiOkResponse({ description: 'a page of bulletins, newest first' })
  list(@Query() query: ListBulletinsQueryDto) {
    return this.bulletins.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: BulletinDto })
  @ApiNotFoundResponse()
  get(@Param('id', uuidParam('id')) id: string) {
    return this.bulletins.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: BulletinDto, description: 'edited; it is a draft again and must be resubmitted' })
  @ApiBadRequestResponse({ description: 'invalid body, or the media does not exist' })
  @ApiNotFoundResponse()
  edit(@Param('id', uuidParam('id')) id: string, @Body() body: UpdateBulletinDto) {
    return this.bulletins.edit(id, body);
  }

  @Post(':id/submit')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'submitted for approval' })
  @ApiConflictResponse({ description: 'only a draft or rejected bulletin can be submitted (error "invalid-transition")' })
  submit(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.submit(id, principal.userId);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'approved: it may be broadcast' })
  @ApiConflictResponse({ description: 'only a submitted bulletin can be approved (error "invalid-transition")' })
  approve(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.approve(id, principal.userId);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOkResponse({ type: BulletinDto, description: 'rejected with a reason; it may be edited and resubmitted' })
  @ApiConflictResponse({ description: 'only a submitted bulletin can be rejected (error "invalid-transition")' })
  reject(@Param('id', uuidParam('id')) id: string, @Body() body: RejectBulletinDto, @CurrentPrincipal() principal: Principal) {
    return this.bulletins.reject(id, principal.userId, body.reason);
  }
}
