import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Requires } from '../auth/permissions.js';
import { CurrentPrincipal, type Principal } from '../auth/principal.js';
import { AreaImportService } from './area-import.service.js';
import { AreasService } from './areas.service.js';
import {
  AreaDetailDto,
  AreaDto,
  AreaImportResultDto,
  CreateAreaDto,
  ListAreasQueryDto,
  UpdateAreaDto,
} from './dto/area.dto.js';

/** The whole GSO list of Vietnam is a few MB; anything far larger is not one. */
const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

/** What multer's memory storage hands over (we do not depend on @types/multer). */
interface UploadedCsv {
  buffer: Buffer;
  size: number;
}

@ApiTags('areas')
@Controller('api/v1/areas')
export class AreasController {
  constructor(
    @Inject(AreasService) private readonly areas: AreasService,
    @Inject(AreaImportService) private readonly importer: AreaImportService,
  ) {}

  @Post()
  @Requires('fleet:admin')
  @ApiCreatedResponse({ type: AreaDto })
  @ApiBadRequestResponse({ description: 'invalid body, or the parent is not one level up' })
  @ApiNotFoundResponse({ description: 'the parent area does not exist' })
  @ApiConflictResponse({ description: 'the code is taken' })
  create(@Body() body: CreateAreaDto) {
    return this.areas.create(body);
  }

  @Post('import')
  @Requires('fleet:admin')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_IMPORT_BYTES, files: 1 } }))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    description: 'GSO list as CSV: Mã TP,Tỉnh / Thành Phố,Mã QH,Quận Huyện,Mã PX,Phường Xã,Cấp (or the English province_code,… headers)',
    schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
  })
  @ApiOkResponse({ type: AreaImportResultDto, description: 'every row applied in one transaction' })
  @ApiBadRequestResponse({ description: 'no file, or up to 20 problems with line numbers; nothing was written' })
  @ApiPayloadTooLargeResponse({ description: 'the file is over 20 MB' })
  import(@UploadedFile() file: UploadedCsv | undefined) {
    if (!file) {
      throw new BadRequestException({ error: 'validation', message: ['file is required: send the CSV as multipart/form-data field "file"'] });
    }
    return this.importer.importGsoCsv(file.buffer);
  }

  @Get()
  @ApiOkResponse({ description: "a page of the caller's areas, ordered by code" })
  list(@Query() query: ListAreasQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.areas.list(query, principal);
  }

  @Get(':code')
  @ApiOkResponse({ type: AreaDetailDto })
  @ApiNotFoundResponse({ description: "unknown, or outside the caller's area" })
  get(@Param('code') code: string, @CurrentPrincipal() principal: Principal) {
    return this.areas.get(code, principal);
  }

  @Patch(':code')
  @Requires('fleet:admin')
  @ApiOkResponse({ type: AreaDto })
  @ApiBadRequestResponse({ description: 'only the name can change' })
  @ApiNotFoundResponse()
  update(@Param('code') code: string, @Body() body: UpdateAreaDto) {
    return this.areas.rename(code, body);
  }

  @Delete(':code')
  @Requires('fleet:admin')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'the area still has child areas, devices or users' })
  remove(@Param('code') code: string) {
    return this.areas.remove(code);
  }
}
