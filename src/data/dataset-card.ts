import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import type { HfFeature } from './loaders/parquet.js';

/** A feature as a dataset card's YAML lists it: `{name, dtype}`, dtype `image` or `{class_label: {names: {'0': ...}}}`. */
interface CardFeature {
  name?: string;
  dtype?: unknown;
}

/**
 * The features a dataset card (ROOT/README.md, YAML front matter `dataset_info.features`) describes, as the parquet
 * metadata would name them: ClassLabel names and Image columns. `dataset_info` is one entry, or a list of them (one
 * per configuration: `default`, else the first). {} when there is no card or it describes no features.
 */
export function readCardFeatures(root: string): Record<string, HfFeature> {
  const file = path.join(root, 'README.md');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const m = /^---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(text);
  if (!m) return {};
  let meta: unknown;
  try {
    meta = parse(m[1]!);
  } catch (e) {
    throw new UserError(`${file}: the card's YAML header does not parse (${(e as Error).message.split('\n')[0]})`);
  }
  const infos = (meta as { dataset_info?: unknown } | null)?.dataset_info;
  const list = (Array.isArray(infos) ? infos : infos ? [infos] : []) as { config_name?: string; features?: CardFeature[] }[];
  const info = list.find((i) => (i.config_name ?? 'default') === 'default') ?? list[0];
  const out: Record<string, HfFeature> = {};
  for (const f of Array.isArray(info?.features) ? info.features : []) {
    if (typeof f?.name !== 'string') continue;
    if (f.dtype === 'image') out[f.name] = { _type: 'Image' };
    const names = (f.dtype as { class_label?: { names?: Record<string, string> | string[] } } | undefined)?.class_label?.names;
    if (names) {
      const byIndex = Array.isArray(names) ? names.map((n, i) => [i, n] as const) : Object.entries(names).map(([k, n]) => [Number(k), n] as const);
      const ordered = byIndex.sort((a, b) => a[0] - b[0]);
      if (ordered.some(([k], i) => k !== i)) throw new UserError(`${file}: the class_label names of '${f.name}' are not numbered 0..${ordered.length - 1}`);
      out[f.name] = { _type: 'ClassLabel', names: ordered.map(([, n]) => String(n)) };
    }
  }
  return out;
}
