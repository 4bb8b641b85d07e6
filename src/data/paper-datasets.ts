import fs from 'node:fs';
import path from 'node:path';
import type { DatasetSource, SplitRoles } from './types.js';
import { openImageFolder } from './loaders/imagefolder.js';
import { paperClassesAndTemplates, paperInfo, primaryMetricOfTable9, table9PrimaryMetric, type DatasetDef } from './descriptor.js';
import { openPackageSplit, openUserProvided, isWdsPackage, userProvidedPresent } from './sources.js';

/** The hub organisation of CLIP_benchmark's WebDataset packages. */
export const WDS_ORG = 'clip-benchmark';

/**
 * One paper dataset served by a CLIP_benchmark package: the package name (`wds_<name>`), its splits with their sizes
 * where counted (the paper's Table 9 sizes come from paper_tables.json), and what differs from the paper.
 * Facts from CLIP_benchmark's package table (the project's reference notes on the `clip-benchmark/wds_*` packages).
 */
interface PackageFacts {
  key: string;
  pkg: string;
  aliases?: string[];
  /** split -> images (undefined: not counted here) */
  splits: Record<string, number | undefined>;
  note?: string;
}

const VTAB_TRAIN = "the package's train split is VTAB's (a subset of the paper's training images)";

const PACKAGES: PackageFacts[] = [
  { key: 'food101', pkg: 'wds_food101', aliases: ['food-101'], splits: { train: 75750, test: 25250 } },
  { key: 'sun397', pkg: 'wds_sun397', splits: { test: undefined }, note: "the package has only a test split (the whole dataset, not the paper's 19,850/19,850 partition): zero-shot over more images than the paper, no linear probe or few-shot" },
  { key: 'stanford_cars', pkg: 'wds_cars', aliases: ['cars'], splits: { train: 8144, test: 8041 } },
  { key: 'fgvc_aircraft', pkg: 'wds_fgvc_aircraft', aliases: ['aircraft'], splits: { train: 3334, test: 3333 }, note: "the package's train split lacks the validation half the paper trains on too (3,334 of 6,667)" },
  {
    key: 'voc2007',
    // whole images with a 20-long 0/1 vector each, as the paper scores them (wds_voc2007 holds single-label crops)
    pkg: 'wds_voc2007_multilabel',
    splits: { train: undefined, test: 4952 },
    note: "the paper's multilabel protocol (whole images, 11-point mAP, one-vs-rest probes); the package's train split is VOC's train (about 2.5k images) without the val half the paper's 5,011 include",
  },
  { key: 'dtd', pkg: 'wds_vtab-dtd', splits: { train: 1880, test: 1880 }, note: `${VTAB_TRAIN}: 1,880 of 3,760 (train without val)` },
  { key: 'oxford_pets', pkg: 'wds_vtab-pets', aliases: ['pets'], splits: { train: 2944, test: 3669 }, note: `${VTAB_TRAIN}: 2,944 of 3,680` },
  { key: 'caltech101', pkg: 'wds_vtab-caltech101', splits: { train: 2754, test: 6084 }, note: `${VTAB_TRAIN}: 2,754 of 3,060; test 6,084 (paper 6,085); classes in tfds order, mapped onto the paper's by name` },
  { key: 'flowers102', pkg: 'wds_vtab-flowers', aliases: ['flowers'], splits: { train: 1020, test: 6149 }, note: `${VTAB_TRAIN}: 1,020 of 2,040 (train without val)` },
  { key: 'fer2013', pkg: 'wds_fer2013', splits: { train: undefined, test: undefined }, note: 'package splits of about 28.7k/7.2k images against the paper\'s 32,140/3,574' },
  { key: 'eurosat', pkg: 'wds_vtab-eurosat', splits: { train: 16200, test: 5400 }, note: "VTAB's splits: 16,200/5,400 against the paper's 10,000/5,000" },
  { key: 'resisc45', pkg: 'wds_vtab-resisc45', splits: { train: 18900, test: 6300 }, note: "VTAB's splits: 18,900/6,300 against the paper's 3,150/25,200" },
  { key: 'gtsrb', pkg: 'wds_gtsrb', splits: { train: 26640, test: 12630 } },
  { key: 'kitti', pkg: 'wds_vtab-kitti_closest_vehicle_distance', splits: { train: undefined, test: undefined }, note: "tfds' train/test splits of KITTI closest-vehicle distance, not the paper's 6,770/711" },
  { key: 'country211', pkg: 'wds_country211', splits: { train: undefined, test: 21100 }, note: "the package's train split lacks the validation images the paper's 43,200 include" },
  { key: 'pcam', pkg: 'wds_vtab-pcam', aliases: ['patchcamelyon'], splits: { train: 262144, test: 32768 }, note: `${VTAB_TRAIN}: 262,144 of 294,912 (train without val)` },
  { key: 'clevr_counts', pkg: 'wds_vtab-clevr_count_all', aliases: ['clevr'], splits: { train: 63000, test: 15000 }, note: "VTAB's full splits (63,000/15,000); the paper uses 2,000/500 subsets" },
  { key: 'rendered_sst2', pkg: 'wds_renderedsst2', aliases: ['renderedsst2'], splits: { train: 6920, test: 1821 }, note: "the package's train split lacks the validation images the paper's 7,792 include" },
  {
    key: 'imagenet',
    pkg: 'wds_imagenet1k',
    aliases: ['imagenet1k', 'ilsvrc2012'],
    // the package's test split is ILSVRC2012's 50,000 validation images, the paper's test set
    splits: { train: 1281167, test: 50000 },
    note:
      "the package's test split is ILSVRC2012's 50,000 validation images (`--split val` names it too); its train split is the full 1,281,167 (about 140 GB): " +
      'a linear probe on ImageNet fetches it all, or reads your copy: --dataset-root DIR holding ROOT/{val,train}/<wnid>/*.JPEG (val as test)',
  },
];

/**
 * ImageNet as the user keeps it: ROOT/<folder>/<wnid>/*.JPEG, the 1000 sorted synset folders being the standard class
 * indices. ILSVRC2012's labelled held-out images are its validation set, kept under val/: that folder serves as test.
 */
const IMAGENET_FOLDERS: Record<string, string> = { test: 'val', train: 'train' };
const IMAGENET_FOLDER_LAYOUT = 'ROOT/{val,train}/<wnid>/*.JPEG (val as test)';

/** Paper datasets with no public image copy: the user provides them under --dataset-root (Birdsnap and UCF101: paper-parquet.ts). */
const USER_PROVIDED: { key: string; note?: string }[] = [
  { key: 'kinetics700', note: 'no public image copy (the hub has Kinetics-700 as videos only, MIEB\'s included); the paper uses one middle frame per video' },
  { key: 'hateful_memes', note: "no public package (Facebook's licence)" },
];

const USER_LAYOUT = 'a package, ROOT/<split>.csv or ROOT/<split>/<class>/<image>';

/** A note on the metric where clip-bench's differs from Table 9's (joined to the split note). */
function metricNote(key: string, primary: string): string | undefined {
  const m = paperInfo(key).metric;
  return primaryMetricOfTable9(m) === primary ? undefined : `Table 9's metric is ${m}; clip-bench reports ${primary}`;
}

const joinNotes = (...notes: (string | undefined)[]): string | undefined => notes.filter(Boolean).join('; ') || undefined;

function packageDef(f: PackageFacts): DatasetDef {
  const { classes, templates } = paperClassesAndTemplates(f.key);
  const paper = paperInfo(f.key);
  const splits = Object.keys(f.splits);
  const roles: SplitRoles = { ...(splits.includes('train') ? { train: 'train' } : {}), test: 'test' };
  const source: DatasetSource = { kind: 'hub', repoId: `${WDS_ORG}/${f.pkg}` };
  const primaryMetric = table9PrimaryMetric(f.key);
  return {
    name: f.key,
    aliases: f.aliases ?? [],
    description: `${paper.title}: the CLIP_benchmark WebDataset package ${WDS_ORG}/${f.pkg} (paper's ${classes.length} class names and ${templates.length} templates)`,
    format: 'wds',
    source,
    classes,
    classOrigin: 'paper',
    // the package's classnames.txt decides; the paper's names are mapped onto it (count checked, by name when reordered)
    classCountFromData: true,
    templates,
    primaryMetric,
    splits,
    anySplit: false,
    roles,
    splitSizes: Object.fromEntries(Object.entries(f.splits).filter((e): e is [string, number] => e[1] !== undefined)),
    paper,
    protocolNote: joinNotes(f.note, metricNote(f.key, primaryMetric)),
    requiredFiles: (split) => ['classnames.txt', `${split}/nshards.txt`],
    isPresent: (root, split) => (split ? [split] : splits).every((s) => splits.includes(s) && isWdsPackage(root, s)),
    load: (root, split, cls) => openPackageSplit(f.key, root, split, cls),
  };
}

/**
 * A dataset whose package root (classnames.txt, <split>/nshards.txt) may also be the user's image folder: a root is
 * read as a package when it has a package's files, else as `folders` (split -> folder) of class folders.
 */
function packageOrFolderDef(f: PackageFacts, folders: Record<string, string>, folderLayout: string): DatasetDef {
  const def = packageDef(f);
  const isPackage = (root: string): boolean => isWdsPackage(root) && def.splits.some((s) => isWdsPackage(root, s));
  const folderOf = (split: string): string => folders[split] ?? split;
  return {
    ...def,
    format: 'wds or imagefolder',
    description: `${def.description}; or your copy under --dataset-root: ${folderLayout}`,
    splitAliases: Object.fromEntries(Object.entries(folders).filter(([split, folder]) => split !== folder).map(([split, folder]) => [folder, split])),
    rootLayout: `${WDS_LAYOUT_SHORT}, or ${folderLayout}`,
    requiredFiles: (split) => [folderOf(split)],
    isPresent: (root, split) =>
      isPackage(root) ? def.isPresent!(root, split) : (split ? [split] : def.splits).every((s) => def.splits.includes(s) && fs.existsSync(path.join(root, folderOf(s)))),
    // the paper's names apply to the sorted synset folders by index; a --classnames file to its own count
    load: (root, split, cls, origin) => (isPackage(root) ? def.load(root, split, cls, origin) : openImageFolder(f.key, root, folderOf(split), cls, origin)),
  };
}

const WDS_LAYOUT_SHORT = 'a package (classnames.txt, <split>/nshards.txt)';

function userDef(u: { key: string; note?: string }): DatasetDef {
  const { classes, templates } = paperClassesAndTemplates(u.key);
  const paper = paperInfo(u.key);
  const primaryMetric = table9PrimaryMetric(u.key);
  const splits = ['train', 'test'];
  return {
    name: u.key,
    aliases: [],
    description: `${paper.title}: you provide it as a WebDataset package (classnames.txt, <split>/nshards.txt), a CSV manifest ROOT/<split>.csv or an image folder ROOT/<split>/<class>/<image>; the paper's ${classes.length} class names and ${templates.length} templates`,
    format: 'package, csv or imagefolder',
    source: { kind: 'user', layout: USER_LAYOUT, generic: false },
    classes,
    classOrigin: 'paper',
    classCountFromData: true,
    templates,
    primaryMetric,
    splits,
    anySplit: true,
    roles: { train: 'train', test: 'test' },
    splitSizes: {},
    paper,
    protocolNote: joinNotes(u.note, metricNote(u.key, primaryMetric)),
    requiredFiles: (split) => [split],
    isPresent: (root, split) => (split ? [split] : splits).every((s) => userProvidedPresent(root, s)),
    load: (root, split, cls, origin) => openUserProvided(u.key, root, split, cls!, origin),
  };
}

/** The paper's datasets that clip-bench reads from a hub package or from the user's files (the rest have built-in loaders). */
export function paperDatasets(): DatasetDef[] {
  return [...PACKAGES.map((f) => (f.key === 'imagenet' ? packageOrFolderDef(f, IMAGENET_FOLDERS, IMAGENET_FOLDER_LAYOUT) : packageDef(f))), ...USER_PROVIDED.map(userDef)];
}
