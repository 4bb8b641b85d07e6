/**
 * A report table as LaTeX (booktabs: \toprule, \midrule, \bottomrule), written beside each CSV so that a table goes
 * into a paper as is. Numeric columns are right-aligned; every cell is the CSV's text, escaped.
 */
import { parseCsv } from '../util/csv.js';

const SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '{': '\\{', '}': '\\}',
  '~': '\\textasciitilde{}', '^': '\\textasciicircum{}', '<': '\\textless{}', '>': '\\textgreater{}',
};

export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^<>]/g, (c) => SPECIAL[c]!).replace(/−/g, '$-$').replace(/±/g, '$\\pm$');
}

const NUMBER = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** The booktabs tabular of a CSV text (header row first); `source` names the CSV in the leading comment. */
export function csvToLatex(csv: string, source: string): string {
  const [header, ...records] = parseCsv(csv, source).map((r) => r.fields);
  if (!header) return `% ${source}: empty\n`;
  const numeric = header.map((_, i) => records.some((r) => NUMBER.test(r[i] ?? '')) && records.every((r) => !r[i] || NUMBER.test(r[i]!)));
  const row = (cells: string[]) => `${header.map((_, i) => latexEscape(cells[i] ?? '')).join(' & ')} \\\\`;
  return [
    `% ${source}, written by clip-bench; needs \\usepackage{booktabs}`,
    `\\begin{tabular}{${numeric.map((n) => (n ? 'r' : 'l')).join('')}}`,
    '\\toprule',
    row(header),
    '\\midrule',
    ...records.map(row),
    '\\bottomrule',
    '\\end{tabular}',
    '',
  ].join('\n');
}
