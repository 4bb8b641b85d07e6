import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ImageSource } from './types.js';
import { mapClassesByName } from './class-map.js';
import { openCsv } from './loaders/csv.js';
import { openImageFolder } from './loaders/imagefolder.js';
import { openWdsSplit, readWdsPackage, WDS_FILES } from './loaders/wds.js';

/** Whether ROOT is a WebDataset package holding `split` (or any split). */
export function isWdsPackage(root: string, split?: string): boolean {
  if (!fs.existsSync(path.join(root, WDS_FILES.classnames))) return false;
  return split ? fs.existsSync(path.join(root, split, 'nshards.txt')) : true;
}

/** Open a split of a WebDataset package folder, the package's labels mapped onto `classes` (by name where the order differs). */
export function openPackageSplit(name: string, root: string, split: string, classes: string[] | undefined): Promise<ImageSource> {
  return openWdsSplit(readWdsPackage(root, name), split, { datasetName: name, paperClasses: classes });
}

/** A source whose labels are renumbered by `map` (source label -> new label) and whose classes are `classes`. */
function relabel(src: ImageSource, map: Int32Array, classes: string[]): ImageSource {
  const labels = Int32Array.from(src.labels, (y) => map[y]!);
  const identity = map.every((j, i) => j === i);
  // cached labels follow the fingerprint: a renumbering is another entry
  const fingerprint = identity ? src.fingerprint : createHash('sha256').update(`${src.fingerprint}\0`).update(new Uint8Array(map.buffer)).digest('hex').slice(0, 32);
  return { ...src, labels, classes: [...classes], fingerprint };
}

/**
 * A paper dataset without a public package, from whatever the user has under ROOT: a WebDataset package
 * (classnames.txt + <split>/nshards.txt), a CSV manifest (<split>.csv; labels are indices or names of `classes`), or an
 * image folder (<split>/<class>/<image>; folders matched to `classes` by name, else taken in sorted order).
 */
export async function openUserProvided(name: string, root: string, split: string, classes: string[], origin: string): Promise<ImageSource> {
  if (isWdsPackage(root)) return openPackageSplit(name, root, split, classes);
  if (fs.existsSync(path.join(root, `${split}.csv`))) return openCsv(name, root, split, classes, origin);
  const src = await openImageFolder(name, root, split, undefined);
  return relabel(src, mapClassesByName(src.classes, classes, `${name} (${root}: class folders against ${origin})`), classes);
}

/** Whether ROOT holds `split` in one of the layouts openUserProvided reads. */
export function userProvidedPresent(root: string, split: string): boolean {
  return isWdsPackage(root, split) || fs.existsSync(path.join(root, `${split}.csv`)) || fs.existsSync(path.join(root, split));
}
