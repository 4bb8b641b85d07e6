import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { ClassOrigin, DatasetDescriptor, ImageSource, PaperDatasetInfo, PrimaryMetric } from './types.js';
import { readClassNames } from './classnames.js';
import { imagenetTemplates, paperPrompts } from './prompts.js';
import { paperTable9 } from './paper-table9.js';

/**
 * A dataset as its module defines it: the descriptor's fields, with `load` in place of `open`, so that the same
 * definition can be opened with the paper's classes or with the user's --classnames.
 */
export interface DatasetDef extends Omit<DatasetDescriptor, 'open' | 'resources' | 'classesFile' | 'isPresent'> {
  /** open a split; `classes` undefined: the data names them; `origin` names where `classes` come from, for errors */
  load(root: string, split: string, classes: string[] | undefined, origin: string): Promise<ImageSource>;
  isPresent?(root: string, split?: string): boolean;
  /** the same dataset reading other columns (--label-column, --image-column); parquet datasets only */
  withColumns?(columns: { label?: string; image?: string }): DatasetDef;
}

const exists = (root: string, rel: string): boolean => fs.existsSync(path.join(root, rel));

/**
 * A dataset format read from a folder the user names (a WebDataset package, parquet shards): classes, templates and
 * splits come from the data itself (a package's classnames.txt and templates, a ClassLabel), any split name goes.
 */
export function localPackageBase(): Pick<DatasetDef, 'classes' | 'classOrigin' | 'classCountFromData' | 'templates' | 'primaryMetric' | 'splits' | 'anySplit' | 'roles' | 'splitSizes'> {
  return {
    classes: [],
    classOrigin: 'data',
    classCountFromData: true,
    templates: [],
    primaryMetric: 'accuracy',
    splits: ['test', 'train'],
    anySplit: true,
    roles: { train: 'train', test: 'test' },
    splitSizes: {},
  };
}

/** The paper's class names and templates of a prompts.json key (ImageNet's 80 templates when it lists none). */
export function paperClassesAndTemplates(key: string): { classes: string[]; templates: string[] } {
  const p = paperPrompts(key);
  if (!p) throw new Error(`datasets/prompts.json has no '${key}'`);
  return { classes: p.classes, templates: p.templates.length ? p.templates : imagenetTemplates() };
}

/** The metric a Table 9 metric string names ('mean per class', '11-point mAP', 'mean(top1, top5)', 'ROC AUC', ...), or null. */
export function primaryMetricOfTable9(metric: string): PrimaryMetric | null {
  const m = metric.trim().toLowerCase();
  if (m === 'accuracy') return 'accuracy';
  if (/^mean.per.class$/.test(m)) return 'mean_per_class';
  if (/^mean\(\s*top-?1\s*,\s*top-?5\s*\)$/.test(m)) return 'mean_top1_top5';
  if (/^roc[ -]?auc$/.test(m)) return 'roc_auc';
  if (/^11.point map$/.test(m)) return 'map11';
  return null;
}

/** Table 9's metric for a paper dataset, as clip-bench computes it; accuracy for anything else. */
export function table9PrimaryMetric(key: string): PrimaryMetric {
  const m = paperTable9()[key]?.metric;
  return (m && primaryMetricOfTable9(m)) || 'accuracy';
}

/** A paper dataset's Table 9 row. */
export function paperInfo(key: string): PaperDatasetInfo {
  const table = paperTable9();
  const row = table[key];
  if (!row) throw new Error(`paper_tables.json: Table 9 has no '${key}'`);
  return { title: row.name, order: Object.keys(table).indexOf(key), classes: row.classes, train: row.train_size, test: row.test_size, metric: row.metric };
}

/** Where the classes of a descriptor built from `def` with `classes` come from, as an error message names it. */
function originLabel(def: DatasetDef, origin: ClassOrigin, file: string | undefined): string {
  if (origin === 'file') return file!;
  if (origin === 'paper') return `the paper's ${def.classes.length} ${def.name} classes`;
  return `${def.name}'s class list`;
}

/** The descriptor of `def` with its own classes, or with the names of a --classnames file (checked against it). */
export function describe(def: DatasetDef, classnamesFile?: string): DatasetDescriptor {
  let classes = def.classes;
  let classOrigin = def.classOrigin;
  if (classnamesFile) {
    classes = readClassNames(classnamesFile);
    classOrigin = 'file';
    if (!def.classCountFromData && classes.length !== def.classes.length) {
      throw new UserError(`--classnames ${classnamesFile}: ${classes.length} names, but ${def.name} has ${def.classes.length} classes`);
    }
  }
  const label = originLabel(def, classOrigin, classnamesFile);
  const resources = def.source.kind === 'download' || def.source.kind === 'bundled' ? (def.source.download?.resources ?? []) : [];
  const isPresent =
    def.isPresent ??
    ((root: string, split?: string) => (split ? [split] : def.splits).every((s) => (def.anySplit || def.splits.includes(s)) && def.requiredFiles(s).every((f) => exists(root, f))));
  const { load: _load, withColumns: _withColumns, ...fields } = def;
  return {
    ...fields,
    resources,
    classes: [...classes],
    classOrigin,
    classesFile: classnamesFile,
    isPresent,
    open: (root, split) => def.load(root, split, classes.length ? classes : undefined, label),
  };
}
