import { BadRequestException, ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { areaCodesOfPath, type AreaLevel } from './area.entity.js';
import type { AreaImportResultDto } from './dto/area.dto.js';
import { GsoProblems, parseGsoCsv, type GsoRow } from './gso-csv.js';
import { isUniqueViolation } from '../common/postgres.js';

interface PlannedArea {
  code: string;
  name: string;
  level: AreaLevel;
  parentCode: string | null;
  path: string;
  /** first line that mentions it */
  line: number;
}

interface ExistingArea {
  code: string;
  name: string;
  level: AreaLevel;
  path: string;
}

const IMPORTED_LEVELS = ['province', 'district', 'commune'] as const;

/**
 * Creates or renames areas from a GSO list. All or nothing: one transaction, and any
 * problem with any row rejects the whole file before a row is written.
 */
@Injectable()
export class AreaImportService {
  private readonly logger = new Logger(AreaImportService.name);

  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async importGsoCsv(file: Buffer): Promise<AreaImportResultDto> {
    const problems = new GsoProblems();
    const rows = parseGsoCsv(file, problems);
    const planned = planAreas(rows, problems);
    rejectIfAny(problems);
    try {
      const result = await this.db.transaction(async (m) => {
        // Imports run one at a time, so each sees the previous one's areas.
        await m.query(`SELECT pg_advisory_xact_lock(hashtext('loa:areas:import'))`);
        const existing = await findExisting(m, [...planned.keys()]);
        const { created, renamed, unchanged } = compare(planned, existing, problems);
        rejectIfAny(problems);
        for (const level of IMPORTED_LEVELS) await insertAreas(m, created.filter((a) => a.level === level));
        await renameAreas(m, renamed);
        return { created: created.length, updated: renamed.length, unchanged, rows: rows.length };
      });
      this.logger.log(`imported ${result.rows} rows: ${result.created} areas created, ${result.updated} renamed`);
      return result;
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ConflictException({ error: 'conflict', message: 'an area in the file was created meanwhile by another request; retry the import' });
      }
      throw err;
    }
  }
}

function rejectIfAny(problems: GsoProblems): void {
  if (!problems.count) return;
  throw new BadRequestException({
    error: 'invalid-csv',
    message: problems.shown,
    problemCount: problems.count,
  });
}

/** The distinct areas the rows describe, checking that rows agree with each other. */
function planAreas(rows: GsoRow[], problems: GsoProblems): Map<string, PlannedArea> {
  const planned = new Map<string, PlannedArea>();
  const add = (area: Omit<PlannedArea, 'path'>, path: string) => {
    const seen = planned.get(area.code);
    if (!seen) {
      planned.set(area.code, { ...area, path });
    } else if (seen.level !== area.level) {
      problems.add(area.line, `code ${area.code} is a ${area.level} here but a ${seen.level} on line ${seen.line}`);
    } else if (seen.parentCode !== area.parentCode) {
      problems.add(area.line, `${area.level} ${area.code} is under ${area.parentCode} here but under ${seen.parentCode} on line ${seen.line}`);
    } else if (seen.name !== area.name) {
      problems.add(area.line, `${area.level} ${area.code} is named "${area.name}" here but "${seen.name}" on line ${seen.line}`);
    }
  };
  for (const { line, province: p, district: d, commune: c } of rows) {
    add({ ...p, level: 'province', parentCode: null, line }, `/${p.code}/`);
    add({ ...d, level: 'district', parentCode: p.code, line }, `/${p.code}/${d.code}/`);
    add({ ...c, level: 'commune', parentCode: d.code, line }, `/${p.code}/${d.code}/${c.code}/`);
  }
  return planned;
}

async function findExisting(m: EntityManager, codes: string[]): Promise<Map<string, ExistingArea>> {
  const rows: ExistingArea[] = await m.query('SELECT code, name, level, path FROM areas WHERE code = ANY($1::varchar[])', [codes]);
  return new Map(rows.map((r) => [r.code, r]));
}

function compare(planned: Map<string, PlannedArea>, existing: Map<string, ExistingArea>, problems: GsoProblems) {
  const created: PlannedArea[] = [];
  const renamed: PlannedArea[] = [];
  let unchanged = 0;
  for (const area of planned.values()) {
    const current = existing.get(area.code);
    if (!current) {
      created.push(area);
      continue;
    }
    const currentParent = areaCodesOfPath(current.path).at(-2) ?? null;
    if (current.level !== area.level) {
      problems.add(area.line, `${area.code} is a ${area.level} here but a ${current.level} in Loa`);
    } else if (currentParent !== area.parentCode) {
      // Official codes never move: a unit that changes parent is issued a new code.
      problems.add(
        area.line,
        `${area.level} ${area.code} is under ${area.parentCode} here but under ${currentParent} in Loa; official codes do not move between parents`,
      );
    } else if (current.name !== area.name) {
      renamed.push(area);
    } else {
      unchanged++;
    }
  }
  return { created, renamed, unchanged };
}

/** One statement per level, parents first, so each child finds its parent's id by code. */
async function insertAreas(m: EntityManager, areas: PlannedArea[]): Promise<void> {
  if (!areas.length) return;
  await m.query(
    `INSERT INTO areas (code, name, level, parent_id, path)
     SELECT r.code, r.name, r.level, p.id, r.path
     FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[]) AS r(code, name, level, parent_code, path)
     LEFT JOIN areas p ON p.code = r.parent_code`,
    [areas.map((a) => a.code), areas.map((a) => a.name), areas.map((a) => a.level), areas.map((a) => a.parentCode), areas.map((a) => a.path)],
  );
}

async function renameAreas(m: EntityManager, areas: PlannedArea[]): Promise<void> {
  if (!areas.length) return;
  await m.query(
    `UPDATE areas a SET name = u.name, updated_at = now()
     FROM unnest($1::varchar[], $2::varchar[]) AS u(code, name)
     WHERE a.code = u.code`,
    [areas.map((a) => a.code), areas.map((a) => a.name)],
  );
}
