import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  StreamableFile,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { Public } from '../auth/public.decorator.js';
import { AudioUploadInterceptor, type ReceivedAudio } from './audio-upload.interceptor.js';
import { AudioFileDto, CreateStreamDto, ListMediaQueryDto, StreamDto, UploadAudioDto } from './dto/media.dto.js';
import { MediaContentGuard } from './media-content.guard.js';
import { MediaContentService } from './media-content.service.js';
import { MediaService } from './media.service.js';

/** The slice of Express's response the content route touches (we do not depend on @types/express). */
interface ContentResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

@ApiTags('media')
@Controller('api/v1/media')
export class MediaController {
  constructor(
    @Inject(MediaService) private readonly media: MediaService,
    @Inject(MediaContentService) private readonly content: MediaContentService,
  ) {}

  @Post()
  @Requires('media:write')
  @UseInterceptors(AudioUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        title: { type: 'string', maxLength: 200 },
        areaCode: { type: 'string', description: "default: the uploader's area" },
      },
    },
  })
  @ApiCreatedResponse({ type: AudioFileDto })
  @ApiBadRequestResponse({ description: "no file, a bad title, or an area unknown or outside the caller's (error \"unknown-area\")" })
  @ApiPayloadTooLargeResponse({ description: 'over MEDIA_MAX_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ description: 'not MP3, WAV, Ogg Opus/Vorbis or M4A, corrupt, or of no duration' })
  upload(@UploadedFile() file: ReceivedAudio | undefined, @Body() body: UploadAudioDto, @CurrentPrincipal() principal: Principal) {
    if (!file) {
      throw new BadRequestException({ error: 'validation', message: ['file is required: send the audio as multipart/form-data field "file"'] });
    }
    return this.media.storeUpload(file, body, principal);
  }

  @Post('streams')
  @Requires('media:write')
  @ApiCreatedResponse({ type: StreamDto })
  createStream(@Body() body: CreateStreamDto, @CurrentPrincipal() principal: Principal) {
    return this.media.createStream(body, principal);
  }

  @Get()
  @ApiOkResponse({ description: "a page of the caller's media, newest first" })
  list(@Query() query: ListMediaQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.media.list(query, principal);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'an audio file or a stream' })
  @ApiNotFoundResponse({ description: "unknown, or outside the caller's area" })
  get(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() principal: Principal) {
    return this.media.get(id, principal);
  }

  @Public()
  @UseGuards(MediaContentGuard)
  @Get(':id/content')
  @ApiQuery({ name: 'token', required: false, description: 'the signed token of a media URL sent to devices; else a bearer JWT' })
  @ApiOkResponse({ description: 'the audio bytes; HTTP Range gives 206' })
  @ApiForbiddenResponse({ description: 'the token is invalid, expired or for another media' })
  @ApiNotFoundResponse({ description: "unknown, a stream, or (with a JWT) outside the caller's area" })
  async download(
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('range') range: string | undefined,
    @Res({ passthrough: true }) res: ContentResponse,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<StreamableFile | undefined> {
    // A device's signed token names this very media, so only an operator's JWT is scoped.
    const content = await this.content.open(id, range, principal);
    res.status(content.status);
    for (const [name, value] of Object.entries(content.headers)) res.setHeader(name, value);
    return content.body ? new StreamableFile(content.body) : undefined;
  }
}
