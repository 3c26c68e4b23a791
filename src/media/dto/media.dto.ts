import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUrl, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { AREA_CODE_PATTERN } from '../../areas/area.entity.js';
import { PageQueryDto } from '../../common/page.js';
import { MEDIA_KINDS, type Media, type MediaKind } from '../media.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

const AREA_CODE_DESCRIPTION = "the area it belongs to; default: the uploader's area (null, national: admins only)";
const notAnAreaCode = { message: 'areaCode is not an area code' };

export const STREAM_PROTOCOLS = ['http', 'https', 'rtsp', 'rtmp'];

/** The text fields of the multipart upload. */
export class UploadAudioDto {
  @ApiPropertyOptional({ example: 'Thông báo tiêm chủng tháng 6', description: 'defaults to the file name' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({ example: '01975', description: AREA_CODE_DESCRIPTION })
  @IsOptional() @IsString() @Matches(AREA_CODE_PATTERN, notAnAreaCode)
  areaCode?: string;
}

export class CreateStreamDto {
  @ApiProperty({ example: 'Đài tiếng nói Việt Nam — VOV1' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  title: string;

  @ApiProperty({ example: 'https://stream.example.vn/vov1.mp3', description: 'http, https, rtsp or rtmp' })
  @IsString()
  @MaxLength(2000)
  @IsUrl(
    { protocols: STREAM_PROTOCOLS, require_protocol: true, require_tld: false, require_host: true },
    { message: `url must be an absolute ${STREAM_PROTOCOLS.join(', ')} URL` },
  )
  url: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: '01975', description: AREA_CODE_DESCRIPTION })
  @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(AREA_CODE_PATTERN, notAnAreaCode)
  areaCode?: string | null;
}

export class ListMediaQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MEDIA_KINDS })
  @IsOptional() @IsIn(MEDIA_KINDS)
  kind?: MediaKind;
}

export class AudioFileDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['file'] }) kind: 'file';
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty({ description: 'hex SHA-256 of the stored bytes' }) sha256: string;
  @ApiProperty() bytes: number;
  @ApiProperty() durationMs: number;
  @ApiProperty({ example: 'audio/mpeg' }) mime: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: national' }) areaCode: string | null;
  @ApiProperty() createdAt: Date;
}

export class StreamDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['stream'] }) kind: 'stream';
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty() streamUrl: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: national' }) areaCode: string | null;
  @ApiProperty() createdAt: Date;
}

export type MediaDto = AudioFileDto | StreamDto;

export function toMediaDto(m: Media): MediaDto {
  if (m.kind === 'stream') {
    return { id: m.id, kind: 'stream', title: m.title, streamUrl: m.streamUrl!, areaCode: m.area?.code ?? null, createdAt: m.createdAt };
  }
  return {
    id: m.id,
    kind: 'file',
    title: m.title,
    sha256: m.sha256!,
    bytes: m.bytes!,
    durationMs: m.durationMs!,
    mime: m.mime!,
    areaCode: m.area?.code ?? null,
    createdAt: m.createdAt,
  };
}
