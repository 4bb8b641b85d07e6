import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { DatasetResource, ImageSource } from './types.js';
import { readClassNames } from './classnames.js';
import { bundledDataDir } from './paths.js';
import { imagenetTemplates } from './prompts.js';
import { paperClassesAndTemplates, paperInfo, table9PrimaryMetric, type DatasetDef } from './descriptor.js';
import { IDX_SPLITS, idxFiles, openIdxSplit } from './loaders/idx.js';
import { CIFAR10_DIR, CIFAR10_LAYOUT, openCifar10 } from './loaders/cifar10.js';
import { CIFAR100_DIR, CIFAR100_LAYOUT, openCifar100 } from './loaders/cifar100.js';
import { STL10_SPLITS, openStl10, stl10Files } from './loaders/stl10.js';
import { IMAGEFOLDER_SPLITS, openImageFolder } from './loaders/imagefolder.js';
import { openCsv } from './loaders/csv.js';

const exists = (root: string, rel: string): boolean => fs.existsSync(path.join(root, rel));
const TRAIN_TEST = { train: 'train', test: 'test' };

function idxResources(base: string, md5: Record<string, string[]>, bytes: Record<string, number>): DatasetResource[] {
  return Object.keys(IDX_SPLITS).flatMap((split) => {
    const f = idxFiles(split);
    return [f.images, f.labels].map((file) => ({ file, url: base + file, md5: md5[file], bytes: bytes[file], splits: [split] }));
  });
}

/** An MNIST-like dataset of gzip IDX files (train and t10k). */
function idxDataset(fields: Pick<DatasetDef, 'name' | 'aliases' | 'description' | 'homepage' | 'license' | 'source' | 'classes' | 'classOrigin' | 'templates' | 'paper'>): DatasetDef {
  const splits = Object.keys(IDX_SPLITS);
  const required = (split: string): string[] => {
    const f = idxFiles(split);
    return [f.images, f.labels];
  };
  return {
    ...fields,
    format: 'idx',
    classCountFromData: false,
    primaryMetric: table9PrimaryMetric(fields.name),
    splits,
    anySplit: false,
    roles: TRAIN_TEST,
    splitSizes: { train: 60000, test: 10000 },
    requiredFiles: required,
    // the uncompressed IDX file is accepted in place of the .gz
    isPresent: (root, split) =>
      (split ? [split] : splits).every((s) => splits.includes(s) && required(s).every((f) => exists(root, f) || exists(root, f.replace(/\.gz$/, '')))),
    load: (root, split, classes) => openIdxSplit(fields.name, root, split, classes!),
  };
}

/** Default class-names files looked for in ROOT by the generic layouts when --classnames is not given. */
export const DEFAULT_CLASSNAMES_FILES = ['classnames.txt', 'classnames.json'];

function rootClassNames(root: string): { names?: string[]; origin: string } {
  for (const f of DEFAULT_CLASSNAMES_FILES) {
    const p = path.join(root, f);
    if (fs.existsSync(p)) return { names: readClassNames(p), origin: p };
  }
  return { origin: '' };
}

/** The datasets with a loader of their own, then the generic imagefolder and csv layouts (ImageNet: paper-datasets.ts). */
export function builtinDatasets(): DatasetDef[] {
  const fmnistNames = JSON.parse(fs.readFileSync(path.join(bundledDataDir(), 'fashion-mnist.json'), 'utf8')) as { classes: string[] };
  const mnist = paperClassesAndTemplates('mnist');
  const c10 = paperClassesAndTemplates('cifar10');
  const c100 = paperClassesAndTemplates('cifar100');
  const stl = paperClassesAndTemplates('stl10');
  return [
    idxDataset({
      name: 'fashion-mnist',
      aliases: ['fashion_mnist', 'fashionmnist'],
      classes: fmnistNames.classes,
      classOrigin: 'bundled',
      templates: imagenetTemplates(),
      description:
        "Zalando's Fashion-MNIST: 28x28 grey article images, 10 classes (bundled; class names from datasets/fashion-mnist.json, ImageNet's 80 templates)",
      homepage: 'https://github.com/zalandoresearch/fashion-mnist',
      license: 'MIT (Zalando SE), see datasets/fashion-mnist/LICENSE',
      source: {
        kind: 'bundled',
        dir: path.join(bundledDataDir(), 'fashion-mnist'),
        download: {
          resources: idxResources(
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
        },
      },
    }),
    idxDataset({
      name: 'mnist',
      aliases: [],
      classes: mnist.classes,
      classOrigin: 'paper',
      templates: mnist.templates,
      paper: paperInfo('mnist'),
      description: 'MNIST handwritten digits: 28x28 grey, 10 classes',
      homepage: 'http://yann.lecun.com/exdb/mnist/',
      license: 'Yann LeCun and Corinna Cortes; CC BY-SA 3.0 as stated by the torchvision mirror',
      source: {
        kind: 'download',
        download: {
          resources: idxResources(
            'https://ossci-datasets.s3.amazonaws.com/mnist/',
            {
              'train-images-idx3-ubyte.gz': ['f68b3c2dcbeaaa9fbdd348bbdeb94873'],
              'train-labels-idx1-ubyte.gz': ['d53e105ee54ea40749a09fcbcd1e9432'],
              't10k-images-idx3-ubyte.gz': ['9fb629c4189551a2d022fa330f9573f3'],
              't10k-labels-idx1-ubyte.gz': ['ec29112dd5afa0611ce80d1b7f02629c'],
            },
            { 'train-images-idx3-ubyte.gz': 9912422, 'train-labels-idx1-ubyte.gz': 28881, 't10k-images-idx3-ubyte.gz': 1648877, 't10k-labels-idx1-ubyte.gz': 4542 },
          ),
        },
      },
    }),
    cifarDef('cifar10', 'cifar-10', c10, 'CIFAR-10 (binary version): 32x32 RGB, 10 classes', {
      file: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', bytes: 170052171,
      files: CIFAR10_LAYOUT.files, dir: CIFAR10_DIR, open: openCifar10,
    }),
    cifarDef('cifar100', 'cifar-100', c100, 'CIFAR-100 (binary version): 32x32 RGB, 100 fine classes', {
      file: 'cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', bytes: 168513733,
      files: CIFAR100_LAYOUT.files, dir: CIFAR100_DIR, open: openCifar100,
    }),
    {
      name: 'stl10',
      aliases: ['stl-10'],
      classes: stl.classes,
      classOrigin: 'paper',
      classCountFromData: false,
      templates: stl.templates,
      primaryMetric: table9PrimaryMetric('stl10'),
      paper: paperInfo('stl10'),
      splits: [...STL10_SPLITS],
      anySplit: false,
      roles: TRAIN_TEST,
      description: 'STL-10 (binary version): 96x96 RGB, 10 classes (the 100,000 unlabeled images are not extracted)',
      format: 'stl10-bin',
      splitSizes: { train: 5000, test: 8000 },
      protocolNote: 'the paper trains on 1,000 images (one of the 10 predefined folds); the train split here has all 5,000',
      homepage: 'https://cs.stanford.edu/~acoates/stl10/',
      source: {
        kind: 'download',
        download: {
          resources: [{ file: 'stl10_binary.tar.gz', url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz', md5: ['91f7769df0f17e558f3565bffb0c7dfb'], bytes: 2640397119 }],
          extract: { archive: 'stl10_binary.tar.gz', filter: (p) => !/unlabeled_X\.bin$/.test(p) },
        },
      },
      requiredFiles: (split) => {
        const f = stl10Files(split);
        return [f.x, f.y];
      },
      load: (root, split, classes) => openStl10(root, split, classes!),
    },
    {
      name: 'imagefolder',
      aliases: [],
      classes: [],
      classOrigin: 'data',
      classCountFromData: true,
      templates: imagenetTemplates(),
      primaryMetric: 'accuracy',
      splits: IMAGEFOLDER_SPLITS,
      anySplit: true,
      roles: TRAIN_TEST,
      description:
        'your images as ROOT/<split>/<class>/<image> (jpg jpeg png webp bmp gif tif ppm pgm); classes = sorted folder names, or --classnames FILE (or ROOT/classnames.txt) naming them by index',
      format: 'imagefolder',
      splitSizes: {},
      source: { kind: 'user', layout: 'ROOT/<split>/<class>/<image>', generic: true },
      requiredFiles: (split) => [split],
      isPresent: (root, split) => (split ? [split] : IMAGEFOLDER_SPLITS).some((s) => exists(root, s)),
      load: async (root, split, classes, origin) => {
        const cn = classes ? { names: classes, origin } : rootClassNames(root);
        return openImageFolder('imagefolder', root, split, cn.names, cn.origin);
      },
    },
    {
      name: 'csv',
      aliases: [],
      classes: [],
      classOrigin: 'data',
      classCountFromData: true,
      templates: imagenetTemplates(),
      primaryMetric: 'accuracy',
      splits: IMAGEFOLDER_SPLITS,
      anySplit: true,
      roles: TRAIN_TEST,
      description:
        'a manifest ROOT/<split>.csv of path,label rows (paths relative to it; label = class index or name) with --classnames FILE (or ROOT/classnames.txt)',
      format: 'csv',
      splitSizes: {},
      source: { kind: 'user', layout: 'ROOT/<split>.csv', generic: true },
      requiredFiles: (split) => [`${split}.csv`],
      isPresent: (root, split) => (split ? [split] : IMAGEFOLDER_SPLITS).some((s) => exists(root, `${s}.csv`)),
      load: async (root, split, classes, origin) => {
        const cn = classes ? { names: classes, origin } : rootClassNames(root);
        if (!cn.names) {
          throw new UserError(`csv: no class names: pass --classnames FILE or put ${DEFAULT_CLASSNAMES_FILES.join(' or ')} in ${root}`);
        }
        return openCsv('csv', root, split, cn.names, cn.origin);
      },
    },
  ];
}

/** CIFAR-10 and CIFAR-100: the same publisher, tarball layout and splits; only the archive and the loader differ. */
function cifarDef(
  name: string,
  alias: string,
  prompts: { classes: string[]; templates: string[] },
  description: string,
  f: { file: string; md5: string; bytes: number; files: Record<string, string[]>; dir: string; open: (root: string, split: string, classes: string[]) => Promise<ImageSource> },
): DatasetDef {
  return {
    name,
    aliases: [alias],
    classes: prompts.classes,
    classOrigin: 'paper',
    classCountFromData: false,
    templates: prompts.templates,
    primaryMetric: table9PrimaryMetric(name),
    paper: paperInfo(name),
    splits: ['train', 'test'],
    anySplit: false,
    roles: TRAIN_TEST,
    description,
    format: `${name}-bin`,
    splitSizes: { train: 50000, test: 10000 },
    homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    source: {
      kind: 'download',
      download: { resources: [{ file: f.file, url: `https://www.cs.toronto.edu/~kriz/${f.file}`, md5: [f.md5], bytes: f.bytes }], extract: { archive: f.file } },
    },
    requiredFiles: (split) => f.files[split] ?? [f.dir],
    load: (root, split, classes) => f.open(root, split, classes!),
  };
}
