import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/page.js';
import { AUDIT_OUTCOMES, type AuditEntry, type AuditOutcome } from '../audit-entry.entity.js';

export class ListAuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'entries at or after this time (ISO 8601)' })
  @IsOptional() @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'entries before this time (ISO 8601)' })
  @IsOptional() @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(64)
  username?: string;

  @ApiPropertyOptional({ example: 'bulletin.approve' })
  @IsOptional() @IsString() @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ example: 'bulletin' })
  @IsOptional() @IsString() @MaxLength(40)
  resourceType?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(100)
  resourceId?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional() @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;
}

export class AuditEntryDto {
  @ApiProperty() id: string;
  @ApiProperty() at: string;
  @ApiProperty({ type: String, nullable: true }) userId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'the caller, or for a login the username tried' }) username: string | null;
  @ApiProperty({ type: String, nullable: true }) role: string | null;
  @ApiProperty() method: string;
  @ApiProperty({ example: '/api/v1/bulletins/:id/approve' }) route: string;
  @ApiProperty({ example: 'bulletin.approve' }) action: string;
  @ApiProperty({ type: String, nullable: true }) resourceType: string | null;
  @ApiProperty({ type: String, nullable: true }) resourceId: string | null;
  @ApiProperty() statusCode: number;
  @ApiProperty({ enum: AUDIT_OUTCOMES }) outcome: AuditOutcome;
  @ApiProperty({ nullable: true, description: 'the resource before the call (credentials redacted)' }) before: unknown;
  @ApiProperty({ nullable: true, description: 'what the call answered, bounded and redacted' }) after: unknown;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
}

export function toAuditEntryDto(e: AuditEntry): AuditEntryDto {
  return {
    id: e.id,
    at: e.at.toISOString(),
    userId: e.userId,
    username: e.username,
    role: e.role,
    method: e.method,
    route: e.route,
    action: e.action,
    resourceType: e.resourceType,
    resourceId: e.resourceId,
    statusCode: e.statusCode,
    outcome: e.outcome,
    before: e.before,
    after: e.after,
    ip: e.ip,
    userAgent: e.userAgent,
  };
}
