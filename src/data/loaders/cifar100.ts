import type { ImageSource } from '../types.js';
import { openCifarSplit, type CifarLayout } from './cifar-common.js';

/** CIFAR-100 binary version: cifar-100-binary.tar.gz -> cifar-100-binary/{train,test}.bin, 3074-byte records (coarse, fine). */
export const CIFAR100_DIR = 'cifar-100-binary';
export const CIFAR100_LAYOUT: CifarLayout = {
  dataset: 'cifar100',
  files: { train: [`${CIFAR100_DIR}/train.bin`], test: [`${CIFAR100_DIR}/test.bin`] },
  labelBytes: 2,
  labelIndex: 1, // the fine label (100 classes), which the paper's class list follows
};

export function openCifar100(root: string, split: string, classes: string[]): Promise<ImageSource> {
  return openCifarSplit(CIFAR100_LAYOUT, root, split, classes);
}
