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
  @UseInterceptors(AudioUploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' }, title: { type: 'string', maxLength: 200 } },
    },
  })
  @ApiCreatedResponse({ type: AudioFileDto })
  @ApiBadRequestResponse({ description: 'no file, or a bad title' })
  @ApiPayloadTooLargeResponse({ description: 'over MEDIA_MAX_BYTES' })
  @ApiUnsupportedMediaTypeResponse({ description: 'not MP3, WAV, Ogg Opus/Vorbis or M4A, corrupt, or of no duration' })
  upload(@UploadedFile() file: ReceivedAudio | undefined, @Body() body: UploadAudioDto, @CurrentPrincipal() principal: Principal) {
    if (!file) {
      throw new BadRequestException({ error: 'validation', message: ['file is required: send the audio as multipart/form-data field "file"'] });
    }
    return this.media.storeUpload(file, body.title, principal.userId);
  }

  @Post('streams')
  @ApiCreatedResponse({ type: StreamDto })
  createStream(@Body() body: CreateStreamDto, @CurrentPrincipal() principal: Principal) {
    return this.media.createStream(body, principal.userId);
  }

  @Get()
  @ApiOkResponse({ description: 'a page of media, newest first' })
  list(@Query() query: ListMediaQueryDto) {
    return this.media.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'an audio file or a stream' })
  @ApiNotFoundResponse()
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.media.get(id);
  }

  @Public()
  @UseGuards(MediaContentGuard)
  @Get(':id/content')
  @ApiQuery({ name: 'token', required: false, description: 'the signed token of a media URL sent to devices; else a bearer JWT' })
  @ApiOkResponse({ description: 'the audio bytes; HTTP Range gives 206' })
  @ApiForbiddenResponse({ description: 'the token is invalid, expired or for another media' })
  @ApiNotFoundResponse({ description: 'unknown, or a stream' })
  async download(
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('range') range: string | undefined,
    @Res({ passthrough: true }) res: ContentResponse,
  ): Promise<StreamableFile | undefined> {
    const content = await this.content.open(id, range);
    res.status(content.status);
    for (const [name, value] of Object.entries(content.headers)) res.setHeader(name, value);
    return content.body ? new StreamableFile(content.body) : undefined;
  }
}
