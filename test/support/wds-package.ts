import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tar from 'tar';
import { tmpDir } from './data-files.js';
import { encodeNpy } from '../../src/util/npy.js';

export interface PackageSpec {
  /** classnames.txt, line i = class i */
  classes: string[];
  /** split -> label per sample (keys s0000000.. numbered over the split) */
  splits: Record<string, number[]>;
  /** samples per shard (the last shard is smaller) */
  shardSize?: number;
  templates?: string[];
  /**
   * a multilabel package (dataset_type.txt 'multilabel'): split -> a 0/1 vector per sample, written as `.npy`
   * (float32, as wds_voc2007_multilabel) instead of `.cls`; `splits` then only gives each sample's colour
   */
  targets?: Record<string, number[][]>;
}

/** A colour per class, so that a probe has something to learn. */
export const colour = (label: number, n: number): { r: number; g: number; b: number } => {
  const h = (label / Math.max(n, 1)) * 6;
  const c = (k: number) => Math.round(255 * Math.max(0, Math.min(1, Math.abs(((h + k) % 6) - 3) - 1)));
  return { r: c(0), g: c(4), b: c(2) };
};

/** Write a WebDataset package in CLIP_benchmark's layout (node-tar shards, .cls then .png per sample) under `dir`. */
export async function writeWdsPackage(dir: string, spec: PackageSpec): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'classnames.txt'), `${spec.classes.join('\n')}\n`);
  if (spec.targets) fs.writeFileSync(path.join(dir, 'dataset_type.txt'), 'multilabel\n');
  if (spec.templates) fs.writeFileSync(path.join(dir, 'zeroshot_classification_templates.txt'), `${spec.templates.map((t) => t.replaceAll('{}', '{c}')).join('\n')}\n`);
  const per = spec.shardSize ?? 8;
  for (const [split, labels] of Object.entries(spec.splits)) {
    const splitDir = path.join(dir, split);
    fs.mkdirSync(splitDir, { recursive: true });
    const nShards = Math.max(1, Math.ceil(labels.length / per));
    for (let s = 0; s < nShards; s++) {
      const stage = tmpDir('wds-stage');
      const members: string[] = [];
      for (let i = s * per; i < Math.min(labels.length, (s + 1) * per); i++) {
        const key = `s${String(i).padStart(7, '0')}`;
        const target = spec.targets?.[split]?.[i];
        if (target) fs.writeFileSync(path.join(stage, `${key}.npy`), encodeNpy('<f4', [target.length], Float32Array.from(target)));
        else fs.writeFileSync(path.join(stage, `${key}.cls`), String(labels[i]));
        await sharp({ create: { width: 16 + (i % 3), height: 16, channels: 3, background: colour(labels[i]!, spec.classes.length) } })
          .png()
          .toFile(path.join(stage, `${key}.png`));
        members.push(target ? `${key}.npy` : `${key}.cls`, `${key}.png`);
      }
      tar.c({ file: path.join(splitDir, `${s}.tar`), cwd: stage, portable: true, sync: true }, members);
    }
    fs.writeFileSync(path.join(splitDir, 'nshards.txt'), `${nShards}\n`);
  }
  return dir;
}

/** `perClass` samples of each of `n` classes, class-major. */
export const labelsOf = (n: number, perClass: number): number[] => Array.from({ length: n * perClass }, (_, i) => Math.floor(i / perClass));
