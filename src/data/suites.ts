import fs from 'node:fs';
import { UserError } from '../errors.js';
import { paperTable9 } from './paper-table9.js';

/** Named suites: the paper's 27 datasets in Table 9's order, and Kornblith et al.'s 12 (its first 12: Figure 10's left average). */
export const SUITES: Record<string, () => string[]> = {
  paper27: () => Object.keys(paperTable9()),
  kornblith12: () => Object.keys(paperTable9()).slice(0, 12),
};

/** The lines of a suite file: one dataset (or @suite) per line; blank lines and `#` comments ignored. */
function suiteFile(file: string, flag: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${flag} @${file}: ${code === 'ENOENT' ? `neither a suite (${Object.keys(SUITES).map((s) => `@${s}`).join(', ')}) nor a file` : (e as Error).message}`);
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  if (names.length === 0) throw new UserError(`${flag} @${file}: no datasets in the file`);
  return names;
}

/**
 * A --dataset value as a list of dataset names: comma-separated names, `@paper27`, `@kornblith12`, or `@FILE` (one
 * dataset per line), in order, each name once. Names are not checked here (the registry does that when each is opened).
 */
export function expandDatasets(value: string, flag = '--dataset', seen: string[] = []): string[] {
  const out: string[] = [];
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!item.startsWith('@')) {
      out.push(item);
      continue;
    }
    const ref = item.slice(1);
    if (seen.includes(ref)) throw new UserError(`${flag} @${ref}: the suite includes itself`);
    const named = SUITES[ref];
    const names = named ? named() : suiteFile(ref, flag);
    for (const n of names) out.push(...expandDatasets(n, flag, [...seen, ref]));
  }
  if (out.length === 0) throw new UserError(`${flag} '${value}': no datasets`);
  return [...new Set(out)];
}
