/** CSV reading (RFC 4180) through csv-parse, the reading half of the csv-stringify project. */
import { parse } from 'csv-parse/sync';
import { UserError } from '../errors.js';

export interface CsvRecord {
  /** 1-based line where the record starts */
  line: number;
  fields: string[];
}

const NEWLINES = /\r\n|\r|\n/g;

/**
 * Parse CSV text: quoted fields, "" escapes, CRLF/LF/CR, a leading BOM. Blank (or whitespace-only) lines are
 * skipped; records may have different lengths (callers check). A malformed file is a UserError naming `file:line`.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true, record_delimiter: ['\r\n', '\n', '\r'] }) as unknown as typeof parsed;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new UserError(`${file}:${e.lines ?? 1}: ${e.message.replace(/ at line \d+.*$/, '')}`);
  }
  const out: CsvRecord[] = [];
  for (const { record, info } of parsed) {
    if (record.length === 1 && record[0]!.trim() === '') continue;
    // info.lines is where the record ends: step back over the line breaks inside its quoted fields
    const inner = record.reduce((n, f) => n + (f.match(NEWLINES)?.length ?? 0), 0);
    out.push({ line: info.lines - inner, fields: record });
  }
  return out;
}
