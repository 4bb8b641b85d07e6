import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { DatasetSpec, ImageSource, PrimaryMetric } from './types.js';
import { readClassNames } from './classnames.js';
import { bundledDataDir, datasetCacheDir } from './paths.js';
import { imagenetTemplates, paperPrompts } from './prompts.js';
import { IDX_SPLITS, idxFiles, openIdxSplit } from './loaders/idx.js';
import { CIFAR10_DIR, CIFAR10_LAYOUT, openCifar10 } from './loaders/cifar10.js';
import { CIFAR100_DIR, CIFAR100_LAYOUT, openCifar100 } from './loaders/cifar100.js';
import { STL10_SPLITS, openStl10, stl10Files } from './loaders/stl10.js';
import { IMAGEFOLDER_SPLITS, openImageFolder } from './loaders/imagefolder.js';
import { openCsv } from './loaders/csv.js';

/** A file a built-in dataset can fetch. */
export interface DatasetResource {
  /** file name, saved as ROOT/<file>; also the last part of its URL */
  file: string;
  /** the publisher's URL (CLIP_BENCH_DATASET_MIRROR replaces everything before <file>) */
  url: string;
  /** md5 sums accepted (publishers of these data sets give md5) */
  md5?: string[];
  sha256?: string[];
  /** download size in bytes, for display */
  bytes?: number;
  /** the splits that need it (all when absent) */
  splits?: string[];
}

/** What `clip-bench datasets` shows and what `ensureDataset` needs, on top of DatasetSpec. */
export interface BuiltinDataset extends DatasetSpec {
  description: string;
  /** storage format: idx, cifar10-bin, cifar100-bin, stl10-bin, imagefolder, csv */
  format: string;
  /** images per split where fixed by the dataset (absent for user-provided layouts) */
  splitSizes: Record<string, number>;
  homepage?: string;
  /** licence / terms note for display */
  license?: string;
  /** downloadable files (empty: the user provides the data) */
  resources: DatasetResource[];
  /** a .tar.gz among resources to extract into ROOT after download */
  extract?: { archive: string; filter?: (entryPath: string) => boolean };
  /** files or folders (relative to ROOT) that a split needs */
  requiredFiles(split: string): string[];
  /** whether ROOT holds the split (every split when none is given) */
  isPresent(root: string, split?: string): boolean;
}

/** Paper Table 9: datasets scored by mean per-class accuracy; everything else uses accuracy. */
export const MEAN_PER_CLASS_DATASETS = ['fgvc_aircraft', 'oxford_pets', 'caltech101', 'flowers102'];

export function primaryMetricFor(name: string): PrimaryMetric {
  return MEAN_PER_CLASS_DATASETS.includes(name) ? 'mean_per_class' : 'accuracy';
}

/** Where a dataset lives unless the user says otherwise: the bundled copy for fashion-mnist, else $XDG_CACHE_HOME/clip-bench/datasets/<name> (~/.cache/... without XDG_CACHE_HOME). */
export function defaultDatasetRoot(name: string): string {
  if (canonicalName(name) === 'fashion-mnist') return path.join(bundledDataDir(), 'fashion-mnist');
  return path.join(datasetCacheDir(), name);
}

const exists = (root: string, rel: string): boolean => fs.existsSync(path.join(root, rel));

function paper(key: string): { classes: string[]; templates: string[] } {
  const p = paperPrompts(key);
  if (!p) throw new Error(`datasets/prompts.json has no '${key}'`);
  return { classes: p.classes, templates: p.templates.length ? p.templates : imagenetTemplates() };
}

function idxDataset(name: string, classes: string[], templates: string[], description: string, extra: Partial<BuiltinDataset>, resources: DatasetResource[]): BuiltinDataset {
  const splits = Object.keys(IDX_SPLITS);
  const required = (split: string): string[] => {
    const f = idxFiles(split);
    return [f.images, f.labels];
  };
  return {
    name,
    classes,
    templates,
    splits,
    primaryMetric: primaryMetricFor(name),
    description,
    format: 'idx',
    splitSizes: { train: 60000, test: 10000 },
    resources,
    requiredFiles: required,
    // the uncompressed IDX file is accepted in place of the .gz
    isPresent: (root, split) =>
      (split ? [split] : splits).every((s) => splits.includes(s) && required(s).every((f) => exists(root, f) || exists(root, f.replace(/\.gz$/, '')))),
    open: (root, split) => openIdxSplit(name, root, split, classes),
    ...extra,
  };
}

function idxResources(base: string, md5: Record<string, string[]>, bytes: Record<string, number>): DatasetResource[] {
  return Object.entries(IDX_SPLITS).flatMap(([split]) => {
    const f = idxFiles(split);
    return [f.images, f.labels].map((file) => ({ file, url: base + file, md5: md5[file], bytes: bytes[file], splits: [split] }));
  });
}

function fileDataset(
  base: Omit<BuiltinDataset, 'isPresent' | 'primaryMetric'>,
): BuiltinDataset {
  return {
    ...base,
    primaryMetric: primaryMetricFor(base.name),
    isPresent: (root, split) => (split ? [split] : base.splits).every((s) => base.splits.includes(s) && base.requiredFiles(s).every((f) => exists(root, f))),
  };
}

function builtins(): BuiltinDataset[] {
  const fmnistNames = JSON.parse(fs.readFileSync(path.join(bundledDataDir(), 'fashion-mnist.json'), 'utf8')) as { classes: string[] };
  const mnist = paper('mnist');
  const c10 = paper('cifar10');
  const c100 = paper('cifar100');
  const stl = paper('stl10');
  const inet = paper('imagenet');
  return [
    idxDataset(
      'fashion-mnist',
      fmnistNames.classes,
      imagenetTemplates(),
      "Zalando's Fashion-MNIST: 28x28 grey article images, 10 classes (bundled; class names from datasets/fashion-mnist.json, ImageNet's 80 templates)",
      { homepage: 'https://github.com/zalandoresearch/fashion-mnist', license: 'MIT (Zalando SE), see datasets/fashion-mnist/LICENSE' },
      idxResources(
        'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
        {
          // Zalando's published md5 first; Debian's recompressed copies (the bundled files) second
          'train-images-idx3-ubyte.gz': ['8d4fb7e6c68d591d4c3dfef9ec88bf0d', 'cf8536b0aa1a6ac5fa3f23001093305c'],
          'train-labels-idx1-ubyte.gz': ['25c81989df183df01b3e8a0aad5dffbe', '10bea18fdb374794d4bb42e356e600c9'],
          't10k-images-idx3-ubyte.gz': ['bef4ecab320f06d8554ea6380940ec79', 'f78720b4224f21cce2f2ccf2d7a94c9a'],
          't10k-labels-idx1-ubyte.gz': ['bb300cfdad3c16e7a12a480ee83cd310', '0d30e22e447f3c33dab9ed536400ac01'],
        },
        { 'train-images-idx3-ubyte.gz': 26421880, 'train-labels-idx1-ubyte.gz': 29515, 't10k-images-idx3-ubyte.gz': 4422102, 't10k-labels-idx1-ubyte.gz': 5148 },
      ),
    ),
    idxDataset(
      'mnist',
      mnist.classes,
      mnist.templates,
      'MNIST handwritten digits: 28x28 grey, 10 classes',
      { homepage: 'http://yann.lecun.com/exdb/mnist/', license: 'Yann LeCun and Corinna Cortes; CC BY-SA 3.0 as stated by the torchvision mirror' },
      idxResources(
        'https://ossci-datasets.s3.amazonaws.com/mnist/',
        {
          'train-images-idx3-ubyte.gz': ['f68b3c2dcbeaaa9fbdd348bbdeb94873'],
          'train-labels-idx1-ubyte.gz': ['d53e105ee54ea40749a09fcbcd1e9432'],
          't10k-images-idx3-ubyte.gz': ['9fb629c4189551a2d022fa330f9573f3'],
          't10k-labels-idx1-ubyte.gz': ['ec29112dd5afa0611ce80d1b7f02629c'],
        },
        { 'train-images-idx3-ubyte.gz': 9912422, 'train-labels-idx1-ubyte.gz': 28881, 't10k-images-idx3-ubyte.gz': 1648877, 't10k-labels-idx1-ubyte.gz': 4542 },
      ),
    ),
    fileDataset({
      name: 'cifar10',
      classes: c10.classes,
      templates: c10.templates,
      splits: ['train', 'test'],
      description: 'CIFAR-10 (binary version): 32x32 RGB, 10 classes',
      format: 'cifar10-bin',
      splitSizes: { train: 50000, test: 10000 },
      homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
      resources: [{ file: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: ['c32a1d4ab5d03f1284b67883e8d87530'], bytes: 170052171 }],
      extract: { archive: 'cifar-10-binary.tar.gz' },
      requiredFiles: (split) => CIFAR10_LAYOUT.files[split] ?? [CIFAR10_DIR],
      open: (root, split) => openCifar10(root, split, c10.classes),
    }),
    fileDataset({
      name: 'cifar100',
      classes: c100.classes,
      templates: c100.templates,
      splits: ['train', 'test'],
      description: 'CIFAR-100 (binary version): 32x32 RGB, 100 fine classes',
      format: 'cifar100-bin',
      splitSizes: { train: 50000, test: 10000 },
      homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
      resources: [{ file: 'cifar-100-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: ['03b5dce01913d631647c71ecec9e9cb8'], bytes: 168513733 }],
      extract: { archive: 'cifar-100-binary.tar.gz' },
      requiredFiles: (split) => CIFAR100_LAYOUT.files[split] ?? [CIFAR100_DIR],
      open: (root, split) => openCifar100(root, split, c100.classes),
    }),
    fileDataset({
      name: 'stl10',
      classes: stl.classes,
      templates: stl.templates,
      splits: [...STL10_SPLITS],
      description: 'STL-10 (binary version): 96x96 RGB, 10 classes (the 100,000 unlabeled images are not extracted)',
      format: 'stl10-bin',
      splitSizes: { train: 5000, test: 8000 },
      homepage: 'https://cs.stanford.edu/~acoates/stl10/',
      resources: [{ file: 'stl10_binary.tar.gz', url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz', md5: ['91f7769df0f17e558f3565bffb0c7dfb'], bytes: 2640397119 }],
      extract: { archive: 'stl10_binary.tar.gz', filter: (p) => !/unlabeled_X\.bin$/.test(p) },
      requiredFiles: (split) => {
        const f = stl10Files(split);
        return [f.x, f.y];
      },
      open: (root, split) => openStl10(root, split, stl.classes),
    }),
    fileDataset({
      name: 'imagenet',
      classes: inet.classes,
      templates: inet.templates,
      splits: ['val', 'train'],
      description:
        'ImageNet-1k (ILSVRC2012) in ImageFolder layout, ROOT/<split>/<wnid>/*.JPEG: the 1000 sorted synset folders are the standard class indices (you provide the data)',
      format: 'imagefolder',
      splitSizes: { val: 50000, train: 1281167 },
      homepage: 'https://image-net.org/',
      resources: [],
      requiredFiles: (split) => [split],
      open: (root, split) => openImageFolder('imagenet', root, split, inet.classes, "the paper's 1000 ImageNet classes"),
    }),
  ];
}

let cache: BuiltinDataset[] | undefined;
const builtinList = (): BuiltinDataset[] => (cache ??= builtins());

const GENERIC = ['imagefolder', 'csv'];
const ALIASES: Record<string, string> = { fashion_mnist: 'fashion-mnist', fashionmnist: 'fashion-mnist', 'cifar-10': 'cifar10', 'cifar-100': 'cifar100', 'stl-10': 'stl10' };

function canonicalName(name: string): string {
  const n = name.trim().toLowerCase();
  return ALIASES[n] ?? n;
}

/** Default class-names files looked for in ROOT by imagefolder/csv when --classnames is not given. */
export const DEFAULT_CLASSNAMES_FILES = ['classnames.txt', 'classnames.json'];

function findClassNames(root: string, file: string | undefined): { names?: string[]; origin: string } {
  if (file) return { names: readClassNames(file), origin: file };
  for (const f of DEFAULT_CLASSNAMES_FILES) {
    const p = path.join(root, f);
    if (fs.existsSync(p)) return { names: readClassNames(p), origin: p };
  }
  return { origin: '' };
}

function imagefolderSpec(classnamesFile?: string): BuiltinDataset {
  const fixed = classnamesFile ? readClassNames(classnamesFile) : undefined;
  return {
    name: 'imagefolder',
    classes: fixed ?? [],
    templates: imagenetTemplates(),
    splits: IMAGEFOLDER_SPLITS,
    primaryMetric: 'accuracy',
    description:
      'your images as ROOT/<split>/<class>/<image> (jpg jpeg png webp bmp gif tif); classes = sorted folder names, or --classnames FILE (or ROOT/classnames.txt) naming them by index',
    format: 'imagefolder',
    splitSizes: {},
    resources: [],
    requiredFiles: (split) => [split],
    isPresent: (root, split) => (split ? [split] : IMAGEFOLDER_SPLITS).some((s) => exists(root, s)),
    open: async (root, split): Promise<ImageSource> => {
      const cn = findClassNames(root, classnamesFile);
      return openImageFolder('imagefolder', root, split, cn.names, cn.origin);
    },
  };
}

function csvSpec(classnamesFile?: string): BuiltinDataset {
  const fixed = classnamesFile ? readClassNames(classnamesFile) : undefined;
  return {
    name: 'csv',
    classes: fixed ?? [],
    templates: imagenetTemplates(),
    splits: IMAGEFOLDER_SPLITS,
    primaryMetric: 'accuracy',
    description:
      'a manifest ROOT/<split>.csv of path,label rows (paths relative to it; label = class index or name) with --classnames FILE (or ROOT/classnames.txt)',
    format: 'csv',
    splitSizes: {},
    resources: [],
    requiredFiles: (split) => [`${split}.csv`],
    isPresent: (root, split) => (split ? [split] : IMAGEFOLDER_SPLITS).some((s) => exists(root, `${s}.csv`)),
    open: async (root, split): Promise<ImageSource> => {
      const cn = findClassNames(root, classnamesFile);
      if (!cn.names) {
        throw new UserError(`csv: no class names: pass --classnames FILE or put ${DEFAULT_CLASSNAMES_FILES.join(' or ')} in ${root}`);
      }
      return openCsv('csv', root, split, cn.names, cn.origin);
    },
  };
}

/** Every dataset name getDataset knows. */
export function datasetNames(): string[] {
  return [...builtinList().map((d) => d.name), ...GENERIC];
}

/**
 * The dataset called `name` (case-insensitive; fashion_mnist, cifar-10 etc. accepted). For
 * imagefolder/csv, `classnamesFile` names the classes by index (read and checked now); their
 * `classes` is [] without it, the names then coming from the data at open time (ImageSource.classes).
 */
export function getDataset(name: string, opts: { classnamesFile?: string } = {}): BuiltinDataset {
  const n = canonicalName(name);
  if (n === 'imagefolder') return imagefolderSpec(opts.classnamesFile);
  if (n === 'csv') return csvSpec(opts.classnamesFile);
  const d = builtinList().find((x) => x.name === n);
  if (!d) throw new UserError(`unknown dataset '${name}' (known: ${datasetNames().join(', ')})`);
  if (opts.classnamesFile) {
    throw new UserError(`--classnames ${opts.classnamesFile}: only the imagefolder and csv datasets take class names; ${d.name} has its own`);
  }
  return d;
}

/** All datasets, built-in ones first, then the generic imagefolder and csv layouts. */
export function listDatasets(): BuiltinDataset[] {
  return [...builtinList(), imagefolderSpec(), csvSpec()];
}

/** Whether `root` holds the dataset (every split, or the one given). */
export function isPresent(spec: DatasetSpec, root: string, split?: string): boolean {
  return (spec as Partial<BuiltinDataset>).isPresent?.(root, split) ?? fs.existsSync(root);
}
