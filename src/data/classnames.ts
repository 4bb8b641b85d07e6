import { UserError } from '../errors.js';
import { readTextFile } from '../util/fs.js';

/**
 * Parse a class-names file: a JSON array of strings, or one name per line (UTF-8, LF or CRLF,
 * surrounding whitespace trimmed, an optional final newline). Index = class. Blank entries and
 * duplicate names are reported with their line numbers (1-based; JSON: 0-based array indices),
 * never silently dropped.
 */
export function parseClassNames(text: string, file: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trim();
  let names: string[];
  let where: (i: number) => string;
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(arr)) throw new UserError(`${file}: expected a JSON array of class names`);
    const bad = arr.findIndex((x) => typeof x !== 'string');
    if (bad >= 0) throw new UserError(`${file}: entry [${bad}] is not a string`);
    names = (arr as string[]).map((s) => s.trim());
    where = (i) => `entry [${i}]`;
  } else {
    const lines = text.split(/\r?\n/);
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    names = lines.map((s) => s.trim());
    where = (i) => `line ${i + 1}`;
  }
  if (names.length === 0 || (names.length === 1 && names[0] === '')) {
    throw new UserError(`${file}: no class names`);
  }
  const blank = names.flatMap((n, i) => (n === '' ? [i] : []));
  if (blank.length > 0) {
    const list = blank.slice(0, 10).map(where).join(', ') + (blank.length > 10 ? `, and ${blank.length - 10} more` : '');
    throw new UserError(`${file}: blank class name at ${list}`);
  }
  const first = new Map<string, number>();
  const dups: string[] = [];
  names.forEach((n, i) => {
    const f = first.get(n);
    if (f === undefined) first.set(n, i);
    else dups.push(`"${n}" at ${where(f)} and ${where(i)}`);
  });
  if (dups.length > 0) {
    throw new UserError(
      `${file}: duplicate class name${dups.length > 1 ? 's' : ''}: ${dups.slice(0, 5).join('; ')}${dups.length > 5 ? `; and ${dups.length - 5} more` : ''}`,
    );
  }
  return names;
}

/** Read and parse a class-names file (see parseClassNames). */
export function readClassNames(file: string): string[] {
  return parseClassNames(readTextFile(file, `class-names file ${file}`), file);
}
