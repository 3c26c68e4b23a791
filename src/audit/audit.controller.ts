import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { AuditTrail } from './audit-trail.service.js';
import { ListAuditQueryDto } from './dto/audit.dto.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(@Inject(AuditTrail) private readonly trail: AuditTrail) {}

  @Get()
  @Requires('audit:read')
  @ApiOkResponse({ description: 'a page of audit entries, newest first' })
  list(@Query() query: ListAuditQueryDto) {
    return this.trail.page(query);
  }
}
