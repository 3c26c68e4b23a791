import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** An unencoded `+07:00` in a query string arrives as ` 07:00`; a space is never valid ISO, so it can only mean `+`. */
const plusRestored = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.replaceAll(' ', '+') : value);

/** `?areaCode&from&to&format` of every report. */
export class ReportQueryDto {
  @ApiPropertyOptional({ description: "area subtree to report on; default: the caller's own area (the whole country for admins)" })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string;

  @ApiProperty({ description: 'start of the period (ISO-8601 date-time)', example: '2026-03-01T00:00:00+07:00' })
  @Transform(plusRestored) @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 date-time' })
  from: string;

  @ApiProperty({ description: 'end of the period (ISO-8601 date-time), after `from`, at most 366 days later' })
  @Transform(plusRestored) @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 date-time' })
  to: string;

  @ApiPropertyOptional({ enum: REPORT_FORMATS, default: 'json' })
  @IsOptional() @IsIn(REPORT_FORMATS, { message: `format must be one of ${REPORT_FORMATS.join(', ')}` })
  format: ReportFormat = 'json';
}
