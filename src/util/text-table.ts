/** Aligned plain-text tables for the terminal. */

/** `v.toFixed(digits)`, never "-0.00". */
export function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

function displayCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    return Number.isInteger(v) ? String(v) : fixed(v, 2);
  }
  return String(v);
}

const NUMERIC_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^$/i;

/**
 * A readable, aligned text table: header, dashes, one line per row. Numbers print as integers or with
 * 2 decimals (pass preformatted strings for other formats); numeric columns are right-aligned.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => displayCell(r[c])));
  const widths = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j]!.length)));
  const right = columns.map((_, j) => cells.length > 0 && cells.every((row) => NUMERIC_TEXT.test(row[j]!)) && cells.some((row) => row[j] !== ''));
  const line = (vals: string[]) =>
    vals.map((v, j) => (right[j] ? v.padStart(widths[j]!) : v.padEnd(widths[j]!))).join('  ').trimEnd();
  return [line([...columns]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}

/** A regularisation strength as every line of clip-bench prints it: 3 significant digits in exponent form (1e+5, 3.16e-2). */
export function formatC(c: number): string {
  return Number(c.toPrecision(3)).toExponential();
}

/** Words of `text` in lines of at most `width` characters (a longer word stands alone). */
export function wrapLines(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** `1 row`, `2 rows`; `irregular` for words that are not made plural by an s (`entry` -> `entries`). */
export function plural(n: number, word: string, irregular?: string): string {
  return `${n} ${n === 1 ? word : (irregular ?? `${word}s`)}`;
}
