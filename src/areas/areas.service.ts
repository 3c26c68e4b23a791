import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Area } from './area.entity.js';

@Injectable()
export class AreasService {
  constructor(@InjectRepository(Area) private readonly areas: Repository<Area>) {}

  /** The area with this official code, or a 404 naming it. */
  async getByCode(code: string): Promise<Area> {
    const area = await this.areas.findOne({ where: { code } });
    if (!area) throw new NotFoundException(`area ${code} not found`);
    return area;
  }
}
