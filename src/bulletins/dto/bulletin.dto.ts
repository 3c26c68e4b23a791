import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { PageQueryDto } from '../../common/page.js';
import { MEDIA_KINDS, type Media, type MediaKind } from '../../media/media.entity.js';
import {
  BULLETIN_CATEGORIES,
  BULLETIN_STATUSES,
  type Bulletin,
  type BulletinCategory,
  type BulletinStatus,
} from '../bulletin.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().normalize('NFC') : value);
const oneOf = (property: string, values: readonly string[]) => ({ message: `${property} must be one of ${values.join(', ')}` });
/** Like @IsOptional, but an explicit null is validated (and refused) instead of skipped. */
const IsOmittable = () => ValidateIf((_, value) => value !== undefined);

export class CreateBulletinDto {
  @ApiProperty({ example: 'Thông báo phòng chống bão số 3', maxLength: 200 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  title: string;

  @ApiProperty({ enum: BULLETIN_CATEGORIES })
  @IsIn(BULLETIN_CATEGORIES, oneOf('category', BULLETIN_CATEGORIES))
  category: BulletinCategory;

  @ApiProperty({ format: 'uuid', description: 'an uploaded media item' })
  @IsUUID()
  mediaId: string;

  @ApiPropertyOptional({ maxLength: 4000 })
  @IsOptional() @IsString() @MaxLength(4000)
  notes?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '01975',
    description: "the area it belongs to; default: the author's area (null, national: admins only)",
  })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, { message: 'areaCode is not an area code' })
  areaCode?: string | null;
}

export class UpdateBulletinDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({ enum: BULLETIN_CATEGORIES })
  @IsOmittable() @IsIn(BULLETIN_CATEGORIES, oneOf('category', BULLETIN_CATEGORIES))
  category?: BulletinCategory;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOmittable() @IsUUID()
  mediaId?: string;

  @ApiPropertyOptional({ maxLength: 4000, nullable: true, description: 'null clears it' })
  @IsOptional() @IsString() @MaxLength(4000)
  notes?: string | null;
}

export class RejectBulletinDto {
  @ApiProperty({ example: 'Sai tên xã ở phút 0:42', maxLength: 1000, description: 'what the author must change' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(1000)
  reason: string;
}

export class ListBulletinsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: BULLETIN_STATUSES })
  @IsOptional() @IsIn(BULLETIN_STATUSES, oneOf('status', BULLETIN_STATUSES))
  status?: BulletinStatus;

  @ApiPropertyOptional({ enum: BULLETIN_CATEGORIES })
  @IsOptional() @IsIn(BULLETIN_CATEGORIES, oneOf('category', BULLETIN_CATEGORIES))
  category?: BulletinCategory;

  @ApiPropertyOptional({ description: 'part of the title, case-insensitive' })
  @IsOptional() @IsString() @MaxLength(200)
  q?: string;
}

export class BulletinMediaDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: MEDIA_KINDS }) kind: MediaKind;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty({ type: String, nullable: true }) mime: string | null;
  @ApiProperty({ type: String, nullable: true }) sha256: string | null;
}

export class BulletinDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: BULLETIN_CATEGORIES }) category: BulletinCategory;
  @ApiProperty({ enum: BULLETIN_STATUSES }) status: BulletinStatus;
  @ApiProperty({ type: String, nullable: true }) notes: string | null;
  @ApiProperty({ type: BulletinMediaDto }) media: BulletinMediaDto;
  @ApiProperty({ type: String, nullable: true, description: 'the area it belongs to; null: national' }) areaCode: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) createdById: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'who submitted it for approval' }) submittedById: string | null;
  @ApiProperty({ type: String, nullable: true }) submittedAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'who approved or rejected it' }) reviewedById: string | null;
  @ApiProperty({ type: String, nullable: true }) reviewedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) rejectionReason: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export function toBulletinDto(b: Bulletin & { media: Media }): BulletinDto {
  return {
    id: b.id,
    title: b.title,
    category: b.category,
    status: b.status,
    notes: b.notes,
    media: { id: b.media.id, kind: b.media.kind, durationMs: b.media.durationMs, mime: b.media.mime, sha256: b.media.sha256 },
    areaCode: b.area?.code ?? null,
    createdById: b.createdById,
    submittedById: b.submittedById,
    submittedAt: b.submittedAt?.toISOString() ?? null,
    reviewedById: b.reviewedById,
    reviewedAt: b.reviewedAt?.toISOString() ?? null,
    rejectionReason: b.rejectionReason,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}
