import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';

export interface DashboardAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

const MARKER = join('dashboard', 'index.html');

/**
 * The dashboard's static files (top-level `dashboard/`), read once at boot and served from
 * memory: a few tens of kB, and a fixed set of names means no request can reach outside it.
 */
@Injectable()
export class DashboardAssets implements OnModuleInit {
  private readonly logger = new Logger(DashboardAssets.name);
  private readonly assets = new Map<string, DashboardAsset>();

  async onModuleInit(): Promise<void> {
    const root = findDashboardDir();
    for (const file of await listFiles(root)) {
      const contentType = CONTENT_TYPES[extname(file)];
      if (!contentType) continue;
      const body = await readFile(file);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      this.assets.set(relative(root, file).split(sep).join('/'), { body, contentType, etag });
    }
    this.logger.log(`dashboard: ${this.assets.size} files from ${root}`);
  }

  /** `name` relative to the dashboard folder, e.g. `index.html`, `js/app.js`. */
  get(name: string): DashboardAsset | undefined {
    return this.assets.get(name);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : Promise.resolve(e.isFile() ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

/**
 * Walks up from this module: it runs from src/dashboard (tests, dev) and from
 * dist/src/dashboard (production, the image), and the working directory may be anywhere.
 */
function findDashboardDir(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER))) return join(dir, 'dashboard');
    if (dirname(dir) === dir) throw new Error(`no ${MARKER} above ${import.meta.dirname}: the dashboard's files are missing`);
  }
}
