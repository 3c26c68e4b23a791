import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';
import { isUUID } from 'class-validator';

/**
 * Whether `value` has the shape Postgres' `uuid` type accepts (any 8-4-4-4-12 hex), so an
 * id from a path or a token can be looked up without a query error.
 */
export function isUuid(value: string): boolean {
  return isUUID(value, 'loose');
}

/** A malformed id in a path is the caller's mistake, reported like every other validation error. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException({ error: 'validation', message: [`${name} must be a UUID`] }) });
}
