import { existsSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { getDataset } from './registry.js';

/** The placeholder of a --dataset-root template (CLIP_benchmark's --dataset_root convention): the dataset's name. */
export const ROOT_PLACEHOLDER = '{dataset}';

/**
 * --dataset-root, parsed: `DIR` (every dataset read from DIR, as a single command has always taken it),
 * `DIR/{dataset}` (each dataset from its own folder there; a dataset without one comes from its default source), and
 * `NAME=DIR` entries naming one dataset's folder (which must exist), comma-separated, at most one entry without `=`:
 * `--dataset-root imagenet=/data/inet,kinetics700=/data/k7,/data/{dataset}`.
 */
export interface DatasetRoots {
  /** dataset (canonical name) -> its folder */
  byName: Map<string, string>;
  /** the entry without a name: a folder, or a template holding {dataset} */
  rest?: string;
}

function checkDir(flag: string, dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  const where = flag === dir ? `--dataset-root ${dir}` : `--dataset-root ${flag}: ${dir}`;
  if (!st) throw new UserError(`${where}: no such directory`);
  if (!st.isDirectory()) throw new UserError(`${where}: a file, not a directory`);
}

/** Parse (and check) --dataset-root: names are datasets clip-bench knows, named folders exist. */
export function parseDatasetRoots(flag: string): DatasetRoots {
  const byName = new Map<string, string>();
  let rest: string | undefined;
  for (const entry of flag.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    // NAME=DIR where NAME looks like a dataset name (a path may hold '=' after a separator)
    if (eq > 0 && !/[\\/]/.test(entry.slice(0, eq))) {
      const name = getDataset(entry.slice(0, eq)).name;
      const dir = entry.slice(eq + 1);
      if (byName.has(name)) throw new UserError(`--dataset-root ${flag}: ${name} is given twice`);
      checkDir(flag, dir);
      byName.set(name, dir);
    } else {
      if (rest !== undefined) throw new UserError(`--dataset-root ${flag}: more than one folder without a dataset name (${rest}, ${entry}): name them NAME=DIR`);
      rest = entry;
    }
  }
  if (rest !== undefined && !rest.includes(ROOT_PLACEHOLDER)) checkDir(flag, rest);
  return { byName, rest };
}

/** Whether the flag gives one folder for every dataset (no names, no placeholder). */
export function isSingleRoot(roots: DatasetRoots): boolean {
  return roots.byName.size === 0 && roots.rest !== undefined && !roots.rest.includes(ROOT_PLACEHOLDER);
}

/**
 * The folder `name` (a canonical dataset name) is read from under --dataset-root, or undefined for its default place:
 * its NAME=DIR entry, else the template's folder for it when that exists, else a plain folder.
 */
export function datasetRootFor(flag: string | undefined, name: string): string | undefined {
  if (flag === undefined) return undefined;
  const roots = parseDatasetRoots(flag);
  const named = roots.byName.get(name);
  if (named !== undefined) return named;
  if (roots.rest === undefined) return undefined;
  if (!roots.rest.includes(ROOT_PLACEHOLDER)) return roots.rest;
  const dir = roots.rest.replaceAll(ROOT_PLACEHOLDER, name);
  return existsSync(dir) ? dir : undefined;
}
