import type { ImageSource } from '../types.js';
import { openCifarSplit, type CifarLayout } from './cifar-common.js';

/** CIFAR-10 binary version: cifar-10-binary.tar.gz -> cifar-10-batches-bin/*.bin, 3073-byte records. */
export const CIFAR10_DIR = 'cifar-10-batches-bin';
export const CIFAR10_LAYOUT: CifarLayout = {
  dataset: 'cifar10',
  files: {
    train: [1, 2, 3, 4, 5].map((k) => `${CIFAR10_DIR}/data_batch_${k}.bin`),
    test: [`${CIFAR10_DIR}/test_batch.bin`],
  },
  labelBytes: 1,
  labelIndex: 0,
};

export function openCifar10(root: string, split: string, classes: string[]): Promise<ImageSource> {
  return openCifarSplit(CIFAR10_LAYOUT, root, split, classes);
}
