import { CsvError, parse } from 'csv-parse/sync';

/**
 * Reading the General Statistics Office (GSO) list of administrative units: one row per
 * commune, carrying its province and district. Pure: no database, so every check here is
 * about the file alone.
 */

export interface GsoUnit {
  code: string;
  name: string;
}

export interface GsoRow {
  /** 1-based line in the file, for error messages */
  line: number;
  province: GsoUnit;
  district: GsoUnit;
  commune: GsoUnit;
  /** the commune's kind as the GSO writes it (Xã, Phường, Thị trấn); informational */
  kind: string;
}

type Column = 'provinceCode' | 'provinceName' | 'districtCode' | 'districtName' | 'communeCode' | 'communeName' | 'kind';

/** Header names, compared after `normalizeHeader`: the GSO export's Vietnamese ones and ours in English. */
const HEADERS: Record<Column, string[]> = {
  provinceCode: ['mã tp', 'province code'],
  provinceName: ['tỉnh thành phố', 'province name'],
  districtCode: ['mã qh', 'district code'],
  districtName: ['quận huyện', 'district name'],
  communeCode: ['mã px', 'commune code'],
  communeName: ['phường xã', 'commune name'],
  kind: ['cấp', 'level'],
};
const EXPECTED_HEADERS = [
  'Mã TP,Tỉnh / Thành Phố,Mã QH,Quận Huyện,Mã PX,Phường Xã,Cấp',
  'province_code,province_name,district_code,district_name,commune_code,commune_name,level',
];

/** GSO codes are fixed-width digit strings; a spreadsheet that treated them as numbers drops the leading zeros. */
const CODE_DIGITS = { province: 2, district: 3, commune: 5 } as const;
const MAX_NAME = 200;

export class GsoProblems {
  static readonly SHOWN = 20;
  readonly shown: string[] = [];
  count = 0;

  add(line: number, message: string): void {
    this.count++;
    if (this.shown.length < GsoProblems.SHOWN) this.shown.push(`line ${line}: ${message}`);
  }
}

export function parseGsoCsv(file: Buffer, problems: GsoProblems): GsoRow[] {
  const text = decodeText(file);
  if (text === null) {
    problems.add(1, 'the file is not UTF-8 text; save the spreadsheet as "CSV UTF-8"');
    return [];
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // `info: true` wraps each record with its line number; the typings do not model that option.
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }) as unknown as typeof records;
  } catch (err) {
    if (err instanceof CsvError) {
      problems.add(typeof err.lines === 'number' ? err.lines : 1, `not readable as CSV: ${err.message}`);
      return [];
    }
    throw err;
  }
  const [header, ...data] = records;
  if (!header) {
    problems.add(1, 'the file is empty');
    return [];
  }
  const columns = columnsOf(header.record);
  if (!columns) {
    problems.add(header.info.lines, `header not recognised; expected "${EXPECTED_HEADERS[0]}" or "${EXPECTED_HEADERS[1]}"`);
    return [];
  }
  if (!data.length) problems.add(header.info.lines, 'the file has a header but no rows');
  const width = Math.max(...Object.values(columns)) + 1;
  const rows: GsoRow[] = [];
  for (const { record, info } of data) {
    if (record.length < width) {
      problems.add(info.lines, `expected ${width} columns, found ${record.length}`);
      continue;
    }
    const cell = (c: Column) => record[columns[c]].normalize('NFC');
    const row: GsoRow = {
      line: info.lines,
      province: { code: cell('provinceCode'), name: cell('provinceName') },
      district: { code: cell('districtCode'), name: cell('districtName') },
      commune: { code: cell('communeCode'), name: cell('communeName') },
      kind: cell('kind'),
    };
    if (checkRow(row, problems)) rows.push(row);
  }
  return rows;
}

function decodeText(file: Buffer): string | null {
  if (file.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(file);
  } catch {
    return null;
  }
}

function normalizeHeader(cell: string): string {
  return cell.normalize('NFC').toLowerCase().replace(/[\s/_]+/g, ' ').trim();
}

/** Column positions by header name, so the GSO's column order and any extra columns do not matter. */
function columnsOf(header: string[]): Record<Column, number> | null {
  const names = header.map(normalizeHeader);
  const entries = (Object.keys(HEADERS) as Column[]).map((c) => [c, names.findIndex((n) => HEADERS[c].includes(n))] as const);
  return entries.every(([, i]) => i >= 0) ? (Object.fromEntries(entries) as Record<Column, number>) : null;
}

function checkRow(row: GsoRow, problems: GsoProblems): boolean {
  const before = problems.count;
  for (const level of ['province', 'district', 'commune'] as const) {
    const { code, name } = row[level];
    const digits = CODE_DIGITS[level];
    if (!new RegExp(`^\\d{${digits}}$`).test(code)) {
      const hint = /^\d+$/.test(code) && code.length < digits ? ' (a spreadsheet may have dropped its leading zeros)' : '';
      problems.add(row.line, `${level} code "${code}" must be ${digits} digits${hint}`);
    }
    if (!name) problems.add(row.line, `${level} name is empty`);
    else if (name.length > MAX_NAME) problems.add(row.line, `${level} name is longer than ${MAX_NAME} characters`);
  }
  return problems.count === before;
}
