import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { fingerprintFiles } from '../../util/fingerprint.js';
import { decodeImage } from '../../image/decode.js';
import { checkIndex, requireRoot } from './common.js';
import { parseCsv } from '../../util/csv.js';

const PATH_HEADERS = ['path', 'file', 'filename', 'filepath', 'image', 'image_path'];
const LABEL_HEADERS = ['label', 'class', 'target', 'y'];

/**
 * A manifest ROOT/<split>.csv of `path,label` rows (an optional header row names the columns,
 * e.g. `path,label`; without one the first two columns are used). Paths are relative to the
 * manifest's folder (absolute ones are kept). A label is a class index when it is a decimal
 * integer, else a class name, looked up exactly (names must be unique for that).
 */
export async function openCsv(dataset: string, root: string, split: string, classNames: string[], classNamesOrigin: string): Promise<ImageSource> {
  requireRoot(dataset, root);
  const manifest = path.join(root, `${split}.csv`);
  if (!fs.existsSync(manifest)) {
    const have = fs.readdirSync(root).filter((f) => f.endsWith('.csv'));
    throw new UserError(
      `${dataset}: no split '${split}': ${manifest} does not exist (${root} has ${have.length ? have.join(', ') : 'no .csv manifests'})`,
    );
  }
  const rows = parseCsv(fs.readFileSync(manifest, 'utf8'), manifest);
  let pc = 0;
  let lc = 1;
  let body = rows;
  if (rows.length > 0) {
    const head = rows[0]!.fields.map((f) => f.trim().toLowerCase());
    const p = head.findIndex((h) => PATH_HEADERS.includes(h));
    const l = head.findIndex((h) => LABEL_HEADERS.includes(h));
    if (p >= 0 && l >= 0) {
      pc = p;
      lc = l;
      body = rows.slice(1);
    }
  }
  if (body.length === 0) throw new UserError(`${manifest}: no rows`);
  const byName = new Map<string, number>();
  const ambiguous = new Set<string>();
  classNames.forEach((c, k) => (byName.has(c) ? ambiguous.add(c) : byName.set(c, k)));
  const dir = path.dirname(manifest);
  const files: string[] = [];
  const labels = new Int32Array(body.length);
  body.forEach((r, k) => {
    const where = `${manifest}:${r.line}`;
    const p = r.fields[pc]?.trim();
    const lab = r.fields[lc]?.trim();
    if (!p || lab === undefined || lab === '') throw new UserError(`${where}: expected 'path,label'`);
    let y: number;
    if (/^\d+$/.test(lab)) {
      y = Number(lab);
      if (y >= classNames.length) throw new UserError(`${where}: label ${y} is not below the ${classNames.length} classes of ${classNamesOrigin}`);
    } else {
      if (ambiguous.has(lab)) throw new UserError(`${where}: class name '${lab}' appears more than once in ${classNamesOrigin}; use the class index`);
      const v = byName.get(lab);
      if (v === undefined) throw new UserError(`${where}: unknown class '${lab}' (not in ${classNamesOrigin})`);
      y = v;
    }
    const abs = path.resolve(dir, p);
    if (!fs.existsSync(abs)) throw new UserError(`${where}: image ${abs} does not exist`);
    files.push(abs);
    labels[k] = y;
  });
  const n = files.length;
  return {
    n,
    labels,
    classes: [...classNames],
    fingerprint: fingerprintFiles(root, [path.relative(root, manifest), ...files.map((f) => path.relative(root, f))]),
    load(i) {
      checkIndex(i, n);
      return decodeImage(files[i]!);
    },
    describe: (i) => files[i]!,
    imageId: (i) => path.relative(root, files[i]!).split(path.sep).join('/'),
  };
}
