import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmpty, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { PageQueryDto } from '../../common/page.js';
import { AREA_CODE_PATTERN, AREA_LEVELS, areaCodesOfPath, type Area, type AreaLevel } from '../area.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().normalize('NFC') : value);
const notACode = (property: string) => ({
  message: `${property} must be 1-32 letters, digits, - or _ (an official code such as 06, 063 or 01975)`,
});

export class CreateAreaDto {
  @ApiProperty({ example: '01975', pattern: AREA_CODE_PATTERN.source })
  @IsString() @Matches(AREA_CODE_PATTERN, notACode('code'))
  code: string;

  @ApiProperty({ example: 'Xã Vi Hương' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ enum: AREA_LEVELS })
  @IsIn(AREA_LEVELS, { message: `level must be one of ${AREA_LEVELS.join(', ')}` })
  level: AreaLevel;

  @ApiPropertyOptional({ example: '063', description: 'required for every level but province' })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, notACode('parentCode'))
  parentCode?: string | null;
}

/**
 * Official codes encode the hierarchy: when an area moves or splits, the statistics office
 * issues new codes, and the change arrives through an import. So only the name is editable.
 */
const immutable = (property: string) => ({
  message: `${property} cannot change: official codes encode the hierarchy, so a moved area gets new codes — import them instead`,
});

export class UpdateAreaDto {
  @ApiPropertyOptional({ example: 'Xã Vi Hương' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name?: string;

  @ApiHideProperty() @IsEmpty(immutable('code'))
  code?: never;

  @ApiHideProperty() @IsEmpty(immutable('level'))
  level?: never;

  @ApiHideProperty() @IsEmpty(immutable('parentCode'))
  parentCode?: never;
}

export class ListAreasQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'only the direct children of this area' })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, notACode('parentCode'))
  parentCode?: string;

  @ApiPropertyOptional({ enum: AREA_LEVELS })
  @IsOptional() @IsIn(AREA_LEVELS, { message: `level must be one of ${AREA_LEVELS.join(', ')}` })
  level?: AreaLevel;

  @ApiPropertyOptional({ description: 'part of the code or name, case-insensitive' })
  @IsOptional() @IsString() @MaxLength(100)
  q?: string;
}

export class AreaRefDto {
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: AREA_LEVELS }) level: AreaLevel;
}

export class AreaDto extends AreaRefDto {
  @ApiProperty({ type: String, nullable: true }) parentCode: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class AreaDetailDto extends AreaDto {
  @ApiProperty({ type: [AreaRefDto], description: 'from the province down to the parent' })
  ancestors: AreaRefDto[];

  @ApiProperty({ description: 'number of direct children' })
  childCount: number;
}

export class AreaImportResultDto {
  @ApiProperty({ description: 'areas that did not exist' }) created: number;
  @ApiProperty({ description: 'existing areas whose name changed' }) updated: number;
  @ApiProperty({ description: 'existing areas already as in the file' }) unchanged: number;
  @ApiProperty({ description: 'data rows read (one commune each)' }) rows: number;
}

export function toAreaDto(area: Area): AreaDto {
  const codes = areaCodesOfPath(area.path);
  return {
    code: area.code,
    name: area.name,
    level: area.level,
    parentCode: codes.length > 1 ? codes[codes.length - 2] : null,
    createdAt: area.createdAt.toISOString(),
    updatedAt: area.updatedAt.toISOString(),
  };
}

export function toAreaRefDto(area: Area): AreaRefDto {
  return { code: area.code, name: area.name, level: area.level };
}
