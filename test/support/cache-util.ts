/** Shared helpers of the cache tests (importing this file has no side effects). */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers.js';
import type { CacheKey } from '../../src/cache/index.js';
import { openWriter } from '../../src/cache/index.js';

export function tmpCacheDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-cache-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function baseKey(over: Partial<CacheKey> = {}): CacheKey {
  return {
    tool: 'clip-bench',
    modelIdentity: 'a'.repeat(64),
    dtype: 'fp32',
    provider: 'cpu',
    preprocess: { shortestEdge: 224, cropSize: 224, resample: 3, rescaleFactor: 1 / 255, mean: [0.48, 0.45, 0.4], std: [0.26, 0.26, 0.27] },
    dataset: 'fashion-mnist',
    datasetFingerprint: 'fp-1',
    split: 'test',
    subset: null,
    kind: 'image',
    ...over,
  };
}

/** Deterministic embedding rows [start, end) of a dim-wide matrix. */
export function rowsOf(start: number, end: number, dim: number): Float32Array {
  const out = new Float32Array((end - start) * dim);
  for (let r = start; r < end; r++) for (let c = 0; c < dim; c++) out[(r - start) * dim + c] = Math.sin(r * 31 + c * 0.7) * (1 + r / 7);
  return out;
}

export function labelsOf(n: number): Int32Array {
  const l = new Int32Array(n);
  for (let i = 0; i < n; i++) l[i] = (i * 7) % 10;
  return l;
}

/** Writes a whole entry in one uninterrupted run. */
export async function writeEntry(cacheDir: string, key: CacheKey, n: number, dim: number, chunkSize: number, modelName = 'mini') {
  const w = await openWriter(cacheDir, { key, label: { modelName } }, { n, dim, chunkSize, toolVersion: '0.0.0-test' });
  for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, dim));
  return w.finish(key.kind === 'image' ? labelsOf(n) : null, { skipped: [{ index: 3, source: 'x.png', reason: 'bad png' }], note: 'hi' });
}

export const cacheModuleUrl = pathToFileURL(path.join(repoRoot, 'dist/src/cache/index.js')).href;

// what both child scripts start with: the key, the sizes, an event printer, deterministic rows and labels
const CHILD_PRELUDE = `const key = JSON.parse(keyJson);
const N = +n, D = +dim;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
function rowsOf(start, end, dim) {
  const out = new Float32Array((end - start) * dim);
  for (let r = start; r < end; r++) for (let c = 0; c < dim; c++) out[(r - start) * dim + c] = Math.sin(r * 31 + c * 0.7) * (1 + r / 7);
  return out;
}
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) labels[i] = (i * 7) % 10;`;

/** A child that writes an entry chunk by chunk (sleeping `delayMs` before each), printing one JSON line per event. */
export const CHILD_SCRIPT = `
import { openWriter } from ${JSON.stringify(cacheModuleUrl)};
const [cacheDir, keyJson, n, dim, chunkSize, delayMs] = process.argv.slice(2);
${CHILD_PRELUDE}
const w = await openWriter(cacheDir, { key, label: { modelName: 'mini' } }, { n: N, dim: D, chunkSize: +chunkSize, toolVersion: '0.0.0-test', lock: { pollMs: 20 } });
say({ event: 'open', pid: process.pid, complete: w.complete, done: w.doneRows });
let written = 0;
for (const c of w.pendingChunks()) {
  await new Promise((r) => setTimeout(r, +delayMs));
  await w.writeChunk(c.start, rowsOf(c.start, c.end, D));
  written++;
  say({ event: 'chunk', start: c.start, end: c.end });
}
await w.finish(labels, { skipped: [{ index: 3, source: 'x.png', reason: 'bad png' }], note: 'hi' });
say({ event: 'finished', written, wasComplete: w.complete });
`;

export function writeChildScript(dir: string): string {
  const file = path.join(dir, 'cache-child.mjs');
  fs.writeFileSync(file, CHILD_SCRIPT);
  return file;
}

export interface ChildRun {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  /** resolves with the exit code / signal */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** resolves once `pred` holds for the events so far */
  until(pred: (events: Array<Record<string, unknown>>) => boolean): Promise<void>;
}

export function runChild(script: string, args: string[]): ChildRun {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (e: typeof events) => boolean; resolve: () => void }> = [];
  let out = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      events.push(JSON.parse(out.slice(0, i)));
      out = out.slice(i + 1);
    }
    for (const w of waiters.splice(0)) if (w.pred(events)) w.resolve();
    else waiters.push(w);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    child,
    events,
    exited,
    until: (pred) =>
      new Promise<void>((resolve, reject) => {
        if (pred(events)) return resolve();
        waiters.push({ pred, resolve });
        void exited.then((r) => reject(new Error(`child exited (${r.code ?? r.signal}) before the awaited event: ${r.stderr}`)));
      }),
  };
}

export function hasNumpy(): boolean {
  try {
    return spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

/** Images of row r that the shard tests treat as unreadable (recorded per chunk). */
export const isBadRow = (r: number) => r % 13 === 3;

/** The skipped-image records of rows [start, end), as a chunk records them. */
export function skippedOf(start: number, end: number): { index: number; source: string }[] {
  const out = [];
  for (let r = start; r < end; r++) if (isBadRow(r)) out.push({ index: r, source: `img-${r}.png` });
  return out;
}

/**
 * A child that computes one shard of an entry (the writer's claim loop, one chunk at a time, `delayMs` before
 * each) with rowsOf() rows, records bad rows per chunk, then tries to assemble; one JSON line per event.
 */
const SHARD_CHILD_SCRIPT = `
import { openWriter } from ${JSON.stringify(cacheModuleUrl)};
const [cacheDir, keyJson, n, dim, chunkSize, delayMs, index, count] = process.argv.slice(2);
${CHILD_PRELUDE}
const isBadRow = ${isBadRow.toString()};
${skippedOf.toString()}
const w = await openWriter(cacheDir, { key, label: { modelName: 'mini' } }, {
  n: N, dim: D, chunkSize: +chunkSize, labels, toolVersion: '0.0.0-test', shard: { index: +index, count: +count }, pollMs: 20,
});
say({ event: 'open', pid: process.pid, complete: w.complete, done: w.doneRows, share: w.share, pending: w.pendingChunks() });
let written = 0;
for (let chunks = w.pendingChunks(); chunks.length > 0; chunks = await w.nextWork()) {
  for (const c of chunks) {
    await new Promise((r) => setTimeout(r, +delayMs));
    await w.writeChunk(c.start, rowsOf(c.start, c.end, D), { skipped: skippedOf(c.start, c.end) });
    written++;
    say({ event: 'chunk', start: c.start, end: c.end });
  }
}
const res = await w.finishShare();
say({ event: 'finished', written, status: res.status, assembled: res.status === 'complete' && res.assembled });
`;

export function writeShardChildScript(dir: string): string {
  const file = path.join(dir, 'shard-child.mjs');
  fs.writeFileSync(file, SHARD_CHILD_SCRIPT);
  return file;
}

/** The unsharded reference of what the shard children write: same rows, same per-chunk skipped images. */
export async function writeShardReference(cacheDir: string, key: CacheKey, n: number, dim: number, chunkSize: number) {
  const w = await openWriter(cacheDir, { key, label: { modelName: 'mini' } }, { n, dim, chunkSize, toolVersion: '0.0.0-test' });
  for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, dim), { skipped: skippedOf(c.start, c.end) });
  return w.finish(labelsOf(n));
}

/**
 * `a` is the same entry as `b` (the reference): byte-identical embeddings.npy and labels.npy, the same meta.json
 * apart from its timestamps, and nothing else left in the folder (no chunks, claims, lock or temp files).
 */
export function assertSameEntry(a: string, b: string): void {
  for (const f of ['embeddings.npy', 'labels.npy']) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), f);
  const strip = (d: string) => {
    const m = JSON.parse(fs.readFileSync(path.join(d, 'meta.json'), 'utf8'));
    delete m.created;
    delete m.started;
    return m;
  };
  assert.deepEqual(strip(a), strip(b));
  assert.deepEqual(fs.readdirSync(a).sort(), ['embeddings.npy', 'labels.npy', 'meta.json'], 'no chunks, claims, lock or temp files left');
}
