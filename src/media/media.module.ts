import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AreasModule } from '../areas/areas.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { LocalMediaStorage } from './local-media.storage.js';
import { MediaContentService } from './media-content.service.js';
import { MediaStorage } from './media-storage.js';
import { MediaUrlSigner } from './media-url-signer.js';
import { MediaController } from './media.controller.js';
import { Media } from './media.entity.js';
import { MediaService } from './media.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Media]), AuthModule, AreasModule],
  controllers: [MediaController],
  providers: [
    MediaService,
    MediaContentService,
    MediaUrlSigner,
    { provide: MediaStorage, useClass: LocalMediaStorage },
  ],
  exports: [MediaService],
})
export class MediaModule {}
