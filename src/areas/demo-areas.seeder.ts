import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { AreaImportService } from './area-import.service.js';
import { Area } from './area.entity.js';

const DEMO_FILE = join('data', 'demo-areas.csv');

/**
 * With SEED_DEMO_AREAS=true, an empty area table gets a slice of Bắc Kạn province (GSO
 * codes), imported through the same path as an operator's upload.
 */
@Injectable()
export class DemoAreasSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoAreasSeeder.name);

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @InjectRepository(Area) private readonly areas: Repository<Area>,
    @Inject(AreaImportService) private readonly importer: AreaImportService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.SEED_DEMO_AREAS !== 'true') return;
    if (await this.areas.exists()) return;
    const file = findDemoFile();
    // Instances booting together may both get here; the import serialises and the later one finds nothing to do.
    const result = await this.importer.importGsoCsv(await readFile(file));
    this.logger.log(`seeded ${result.created} demo areas from ${file}`);
  }
}

/**
 * Walks up from this module: it runs from src/areas (tests, dev) and from dist/src/areas
 * (production), and the working directory may be anywhere, so neither a fixed relative URL
 * nor process.cwd() finds the project's data/ folder in every case.
 */
function findDemoFile(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, DEMO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`SEED_DEMO_AREAS=true but no ${DEMO_FILE} above ${import.meta.dirname}`);
  }
}
