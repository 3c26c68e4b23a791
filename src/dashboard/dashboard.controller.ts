import { Controller, Get, Headers, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PERMISSIONS } from '../auth/permissions.js';
import { Public } from '../auth/public.decorator.js';
import { DashboardAssets, type DashboardAsset } from './dashboard-assets.service.js';

/** The slice of Express's response these routes touch (we do not depend on @types/express). */
interface AssetResponse {
  status(code: number): AssetResponse;
  setHeader(name: string, value: string): unknown;
  end(body?: Buffer): unknown;
}

/**
 * Everything the page loads comes from Loa itself: it must work on a LAN with no Internet,
 * and a strict policy keeps injected markup from running or phoning out.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The operators' dashboard: static files only, public because a browser must load the login
 * page before it has a token; every API call the page makes carries the operator's JWT.
 */
@ApiExcludeController()
@Public()
@Controller()
export class DashboardController {
  constructor(@Inject(DashboardAssets) private readonly assets: DashboardAssets) {}

  @Get()
  index(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() res: AssetResponse): void {
    send(res, this.assets.get('index.html')!, ifNoneMatch);
  }

  /** What each role may do, so the page shows only the forms its user can use (one table: permissions.ts). */
  @Get('dashboard/permissions.json')
  permissions() {
    return PERMISSIONS;
  }

  @Get('dashboard/*path')
  asset(
    @Param('path') path: string | string[],
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: AssetResponse,
  ): void {
    const name = Array.isArray(path) ? path.join('/') : path;
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException({ error: 'not-found', message: `no dashboard file ${name}` });
    send(res, asset, ifNoneMatch);
  }
}

/**
 * No fingerprinted names (there is no build step), so browsers revalidate every file; the
 * ETag makes that a 304 without a body.
 */
function send(res: AssetResponse, asset: DashboardAsset, ifNoneMatch: string | undefined): void {
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', asset.etag);
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (ifNoneMatch?.split(/\s*,\s*/).includes(asset.etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', asset.contentType);
  res.status(200).end(asset.body);
}
