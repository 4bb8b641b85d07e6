/** chunks/layout.json and chunks/labels.npy: what an entry being written is, stored before any chunk. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { atomicWriteFile, isErrno, tmpSuffix, userFsError } from '../util/fs.js';
import { LAYOUT_FILE, PENDING_LABELS_FILE, PENDING_TARGETS_FILE, readJson, type Layout, type Targets } from './entry-format.js';
import { encodeNpy, parseNpyHeader } from '../util/npy.js';

export const layoutJson = (l: Layout) => Buffer.from(JSON.stringify(l, null, 2) + '\n');

/**
 * Creates chunks/layout.json unless one exists, without a lock: many shards may start an entry at once and the
 * first link() wins; everyone returns the layout that won (so all agree on the chunk size, hence the partition).
 */
export async function createLayoutOnce(chunksDir: string, layout: Layout, labels: Int32Array | null, targets: Targets | null = null): Promise<Layout> {
  const file = path.join(chunksDir, LAYOUT_FILE);
  const existing = (await readJson(file)) as Layout | undefined;
  if (existing) return existing;
  await fsp.mkdir(chunksDir, { recursive: true });
  // the labels first: a layout's presence promises them (identical bytes whoever writes them)
  if (labels !== null) await writePendingLabels(chunksDir, labels);
  if (targets !== null) await writePendingTargets(chunksDir, targets);
  const tmp = file + tmpSuffix();
  try {
    await fsp.writeFile(tmp, layoutJson(layout));
    await fsp.link(tmp, file);
    return layout;
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw userFsError(e, file);
    return (await readJson(file)) as Layout;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

export async function writePendingLabels(chunksDir: string, labels: Int32Array): Promise<void> {
  await atomicWriteFile(path.join(chunksDir, PENDING_LABELS_FILE), encodeNpy('<i4', [labels.length], labels));
}

/** A pending .npy (labels.npy, targets.npy) and its header, or null when the entry has none stored. */
async function readPendingNpy(file: string): Promise<{ bytes: Buffer; h: ReturnType<typeof parseNpyHeader> } | null> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return null;
    throw e;
  }
  return { bytes, h: parseNpyHeader(bytes) };
}

/** chunks/labels.npy, or null when the entry has none stored */
export async function readPendingLabels(chunksDir: string, n: number): Promise<Int32Array | null> {
  const file = path.join(chunksDir, PENDING_LABELS_FILE);
  const npy = await readPendingNpy(file);
  if (!npy) return null;
  const { bytes, h } = npy;
  if (h.descr !== '<i4' || h.shape.length !== 1 || h.shape[0] !== n || bytes.length !== h.dataOffset + n * 4)
    throw new Error(`cache entry: ${file} does not hold ${n} int32 labels`);
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset + h.dataOffset, bytes.byteOffset + h.dataOffset + n * 4));
}

export async function writePendingTargets(chunksDir: string, t: Targets): Promise<void> {
  await atomicWriteFile(path.join(chunksDir, PENDING_TARGETS_FILE), encodeNpy('|u1', [t.data.length / t.nClasses, t.nClasses], t.data));
}

/** chunks/targets.npy, or null when the entry has none stored */
export async function readPendingTargets(chunksDir: string, n: number): Promise<Targets | null> {
  const file = path.join(chunksDir, PENDING_TARGETS_FILE);
  const npy = await readPendingNpy(file);
  if (!npy) return null;
  const { bytes, h } = npy;
  const k = h.shape[1] ?? 0;
  if (h.descr !== '|u1' || h.fortranOrder || h.shape.length !== 2 || h.shape[0] !== n || k < 1 || bytes.length !== h.dataOffset + n * k)
    throw new Error(`cache entry: ${file} does not hold ${n} rows of uint8 targets`);
  return { data: new Uint8Array(bytes.subarray(h.dataOffset)), nClasses: k };
}
