import { QueryFailedError } from 'typeorm';

function pgCode(err: unknown): string | undefined {
  return err instanceof QueryFailedError ? (err.driverError as { code?: string } | undefined)?.code : undefined;
}

/** 23505: a concurrent writer took the same unique value between our check and our insert. */
export function isUniqueViolation(err: unknown): boolean {
  return pgCode(err) === '23505';
}

/** 23503: a row still references (or no longer finds) the row we touched. */
export function isForeignKeyViolation(err: unknown): boolean {
  return pgCode(err) === '23503';
}

/** Makes user text literal inside a LIKE/ILIKE pattern (backslash is Postgres' default escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Rows of an `UPDATE … RETURNING`. TypeORM's Postgres driver answers UPDATE and DELETE with
 * `[rows, rowCount]` but other statements with the rows alone; this hides the difference.
 */
export async function updateReturning<T>(runner: { query(sql: string, params?: unknown[]): Promise<unknown> }, sql: string, params: unknown[]): Promise<T[]> {
  const raw = await runner.query(sql, params);
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') return raw[0] as T[];
  return raw as T[];
}
