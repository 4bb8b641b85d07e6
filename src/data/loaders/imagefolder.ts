import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { compareStrings } from '../../util/compare.js';
import type { ImageSource } from '../types.js';
import { fingerprintFiles } from '../../util/fingerprint.js';
import { decodeImage } from '../../image/decode.js';
import { checkIndex, requireRoot } from './common.js';

/** torchvision's IMG_EXTENSIONS (what ImageFolder lists) and .gif; every one decodes (src/image/decode.ts). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp', '.gif'];
/** Split folder names looked at to make class indices agree between splits. */
export const IMAGEFOLDER_SPLITS = ['train', 'val', 'test'];

export function isImageFile(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}


/** Whether a directory entry is a folder (following symlinks; a dangling one is not). */
function isDir(dir: string, d: fs.Dirent): boolean {
  if (d.isDirectory()) return true;
  if (!d.isSymbolicLink()) return false;
  try {
    return fs.statSync(path.join(dir, d.name)).isDirectory();
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && isDir(dir, d))
    .map((d) => d.name)
    .sort(compareStrings);
}

function walkImages(dir: string, out: string[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => compareStrings(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (isDir(dir, e)) walkImages(p, out);
    else if (isImageFile(e.name)) out.push(p);
  }
}

/**
 * ROOT/<split>/<class folder>/<image> (images may sit in nested folders below the class folder).
 * Class index = position of the folder name in the sorted union of the class folders of
 * ROOT/{train,val,test} and ROOT/<split>, so that indices agree between splits even when a split
 * lacks a class. `classNames` (a class-names file, or the paper's names for a known dataset)
 * names the classes by index and must have one name per folder; without it the folder names are
 * the class names.
 */
export async function openImageFolder(
  dataset: string,
  root: string,
  split: string,
  classNames: string[] | undefined,
  classNamesOrigin = 'the class-names file',
): Promise<ImageSource> {
  requireRoot(dataset, root);
  const splitDir = path.join(root, split);
  if (!fs.existsSync(splitDir) || !fs.statSync(splitDir).isDirectory()) {
    const have = subdirs(root);
    throw new UserError(
      `${dataset}: no split '${split}': ${splitDir} is not a folder (${root} has ${have.length ? have.map((s) => `'${s}'`).join(', ') : 'no sub-folders'})`,
    );
  }
  const folderSet = new Set<string>();
  for (const s of new Set([...IMAGEFOLDER_SPLITS, split])) {
    const d = path.join(root, s);
    if (fs.existsSync(d) && fs.statSync(d).isDirectory()) for (const c of subdirs(d)) folderSet.add(c);
  }
  const folders = [...folderSet].sort(compareStrings);
  if (folders.length === 0) throw new UserError(`${dataset}: ${splitDir} has no class folders (expected ${splitDir}/<class>/<image>)`);
  if (classNames && classNames.length !== folders.length) {
    throw new UserError(
      `${dataset}: ${classNamesOrigin} has ${classNames.length} class names but ${root} has ${folders.length} class folders (${folders.slice(0, 5).join(', ')}${folders.length > 5 ? ', ...' : ''})`,
    );
  }
  const files: string[] = [];
  const labels: number[] = [];
  folders.forEach((c, idx) => {
    const d = path.join(splitDir, c);
    if (!fs.existsSync(d)) return;
    const imgs: string[] = [];
    walkImages(d, imgs);
    for (const f of imgs) {
      files.push(f);
      labels.push(idx);
    }
  });
  const n = files.length;
  if (n === 0) throw new UserError(`${dataset}: ${splitDir} has no images (${IMAGE_EXTENSIONS.join(' ')})`);
  const rels = files.map((f) => path.relative(root, f));
  return {
    n,
    labels: Int32Array.from(labels),
    classes: classNames ? [...classNames] : folders,
    fingerprint: fingerprintFiles(root, rels),
    load(i) {
      checkIndex(i, n);
      return decodeImage(files[i]!);
    },
    describe: (i) => files[i]!,
    imageId: (i) => rels[i]!.split(path.sep).join('/'),
  };
}
