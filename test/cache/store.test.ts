import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { entryDir, listEntries, loadEntry, openWriter, removeEntries, type LockInfo } from '../../src/cache/index.js';
import { baseKey, labelsOf, rowsOf, tmpCacheDir, writeEntry } from '../support/cache-util.js';

const opts = (n: number, dim: number, chunkSize: number) => ({ n, dim, chunkSize, toolVersion: '0.0.0-test', warn: () => {} });

test('miss, then hit; an already complete entry opens as complete', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  assert.equal(await loadEntry(dir, key), null);
  await writeEntry(dir, key, 10, 4, 3);
  assert.ok(await loadEntry(dir, key));
  assert.equal(await loadEntry(dir, baseKey({ split: 'train' })), null);
  const w = await openWriter(dir, key, opts(10, 4, 3));
  assert.equal(w.complete, true);
  assert.equal(w.doneRows, 10);
  assert.deepEqual(w.pendingChunks(), []);
  const meta = await w.finish(labelsOf(10));
  assert.equal(meta.n, 10);
  assert.equal(fs.existsSync(path.join(w.dir, 'lock')), false);
});

test('the model label is not part of the key', async (t) => {
  const dir = tmpCacheDir(t);
  await writeEntry(dir, baseKey(), 6, 2, 4, 'name-one');
  const e = await loadEntry(dir, { key: baseKey(), label: { modelName: 'name-two' } });
  assert.ok(e);
  assert.equal(e.meta.label.modelName, 'name-one');
});

test('resume after a simulated crash: chunks without meta.json; nothing complete is recomputed', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const [n, dim] = [23, 5];
  const w1 = await openWriter(dir, { key, label: { modelName: 'mini' } }, opts(n, dim, 4));
  assert.equal(w1.complete, false);
  assert.deepEqual(w1.pendingChunks().slice(0, 2), [{ start: 0, end: 4 }, { start: 4, end: 8 }]);
  await w1.writeChunk(0, rowsOf(0, 4, dim));
  await w1.writeChunk(8, rowsOf(8, 12, dim));
  // the crash: a half-written temp chunk and the lock of a dead process stay behind
  fs.writeFileSync(path.join(w1.dir, 'chunks', '4-8.f32.tmp-999-abc'), Buffer.alloc(7));
  await w1.close();
  assert.equal(await loadEntry(dir, key), null);
  // resumed with another batch size: the recorded chunk size wins, done chunks are kept
  const w2 = await openWriter(dir, key, opts(n, dim, 7));
  assert.equal(w2.chunkSize, 4);
  assert.equal(w2.doneRows, 8);
  assert.ok(w2.isDone(0, 4) && w2.isDone(8, 12) && !w2.isDone(3, 5));
  assert.deepEqual(w2.missingRanges(), [{ start: 4, end: 8 }, { start: 12, end: 23 }]);
  const pending = w2.pendingChunks();
  assert.deepEqual(pending, [
    { start: 4, end: 8 },
    { start: 12, end: 16 },
    { start: 16, end: 20 },
    { start: 20, end: 23 },
  ]);
  assert.equal(fs.existsSync(path.join(w2.dir, 'chunks', '4-8.f32.tmp-999-abc')), false, 'temp leftovers are removed');
  for (const c of pending) await w2.writeChunk(c.start, rowsOf(c.start, c.end, dim));
  await assert.rejects(w2.finish(new Int32Array(3)), /labels/);
  await w2.finish(labelsOf(n));
  const e = await loadEntry(dir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, n, dim));
  assert.equal(e.meta.label.modelName, 'mini');
  assert.deepEqual(fs.readdirSync(e.dir).sort(), ['embeddings.npy', 'labels.npy', 'meta.json']);
});

test('misaligned and overlapping chunks (identified by row range) assemble correctly', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey({ kind: 'text', textsHash: 'abc' });
  const [n, dim] = [20, 3];
  const w = await openWriter(dir, key, opts(n, dim, 8));
  await w.writeChunk(0, rowsOf(0, 5, dim));
  await w.writeChunk(3, rowsOf(3, 11, dim));
  await w.writeChunk(15, rowsOf(15, 20, dim));
  assert.deepEqual(w.pendingChunks(), [{ start: 11, end: 15 }]);
  await assert.rejects(w.finish(null), /rows not written: 11-15/);
  await w.writeChunk(11, rowsOf(11, 15, dim));
  await assert.rejects(w.writeChunk(18, rowsOf(18, 21, dim)), /out of range/);
  const meta = await w.finish(null);
  assert.equal(meta.labelsCount, null);
  const e = await loadEntry(dir, key);
  assert.ok(e);
  assert.equal(e.labels, null);
  assert.deepEqual(e.embeddings, rowsOf(0, n, dim));
  assert.equal(fs.existsSync(path.join(e.dir, 'labels.npy')), false);
});

test('partial chunks of another shape are discarded', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const w1 = await openWriter(dir, key, opts(10, 4, 5));
  await w1.writeChunk(0, rowsOf(0, 5, 4));
  await w1.close();
  const w2 = await openWriter(dir, key, opts(10, 8, 5));
  assert.equal(w2.doneRows, 0);
  await w2.close();
});

test('corrupt complete entries are a miss with a warning, and the next writer rewrites them', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const corruptions: Array<[string, (d: string) => void, RegExp]> = [
    ['truncated embeddings', (d) => fs.truncateSync(path.join(d, 'embeddings.npy'), 200), /embeddings\.npy has \d+ bytes/],
    ['bad meta.json', (d) => fs.writeFileSync(path.join(d, 'meta.json'), '{"format": 1, "ha'), /not valid JSON/],
    ['missing labels', (d) => fs.rmSync(path.join(d, 'labels.npy')), /labels\.npy is missing/],
    ['bad magic', (d) => fs.writeFileSync(path.join(d, 'embeddings.npy'), Buffer.alloc(128 + 12 * 4 * 4)), /bad magic/],
    [
      'shape mismatch',
      (d) => {
        const m = JSON.parse(fs.readFileSync(path.join(d, 'meta.json'), 'utf8'));
        m.dim = 2;
        m.n = 24;
        m.labelsCount = 24;
        fs.writeFileSync(path.join(d, 'meta.json'), JSON.stringify(m));
      },
      /meta\.json says/,
    ],
  ];
  for (const [what, corrupt, warning] of corruptions) {
    await writeEntry(dir, key, 12, 4, 5);
    corrupt(entryDir(dir, key));
    const warnings: string[] = [];
    assert.equal(await loadEntry(dir, key, { warn: (m) => warnings.push(m) }), null, what);
    assert.equal(warnings.length, 1, what);
    assert.match(warnings[0]!, /corrupt/, what);
    assert.match(warnings[0]!, warning, what);
    const w = await openWriter(dir, key, { ...opts(12, 4, 5), warn: (m) => warnings.push(m) });
    assert.equal(w.complete, false, what);
    assert.equal(w.doneRows, 0);
    for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, 4));
    await w.finish(labelsOf(12));
    const e = await loadEntry(dir, key);
    assert.ok(e, what);
    assert.deepEqual(e.embeddings, rowsOf(0, 12, 4));
  }
});

test('Fashion-MNIST sized hit (10,000 x 512) loads fast', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const [n, dim] = [10_000, 512];
  const w = await openWriter(dir, key, opts(n, dim, 1000));
  const block = rowsOf(0, 1000, dim);
  for (const c of w.pendingChunks()) await w.writeChunk(c.start, block);
  await w.finish(labelsOf(n));
  const size = fs.statSync(path.join(w.dir, 'embeddings.npy')).size;
  assert.equal(size, 128 + n * dim * 4);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const e = await loadEntry(dir, key);
    best = Math.min(best, performance.now() - t0);
    assert.ok(e);
    assert.equal(e.embeddings.length, n * dim);
    assert.equal(e.embeddings[1001 * dim + 5], block[1 * dim + 5]);
  }
  t.diagnostic(`loadEntry 10000x512: ${best.toFixed(1)} ms`);
  assert.ok(best < 100, `load took ${best} ms`);
});

test('locks: a live holder is waited for; dead-pid and old foreign locks are stolen', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const edir = entryDir(dir, key);
  fs.mkdirSync(edir, { recursive: true });
  const lockFile = path.join(edir, 'lock');
  const writeLock = (info: Partial<LockInfo>, ageMs = 0) => {
    fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, hostname: os.hostname(), created: new Date().toISOString(), token: 'x', ...info }));
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(lockFile, t, t);
  };
  // live (this very process, another token): wait, then give up with a UserError
  writeLock({ pid: process.pid, token: 'live' });
  let waitedFor: LockInfo | null = null;
  await assert.rejects(
    openWriter(dir, key, { ...opts(4, 2, 2), lock: { timeoutMs: 300, pollMs: 20, onWait: (h) => (waitedFor = h) } }),
    (e: unknown) => e instanceof UserError && /being written by pid/.test(e.message),
  );
  assert.equal((waitedFor as LockInfo | null)?.token, 'live');
  // a fresh lock of another host: live too
  writeLock({ hostname: 'some-other-host', pid: 12345 });
  await assert.rejects(openWriter(dir, key, { ...opts(4, 2, 2), lock: { timeoutMs: 100, pollMs: 20 } }), UserError);
  // ... unless it made no progress for staleMs
  writeLock({ hostname: 'some-other-host', pid: 12345 }, 20 * 60_000);
  const steals: string[] = [];
  const w1 = await openWriter(dir, key, { ...opts(4, 2, 2), lock: { timeoutMs: 1000, onSteal: (_h, why) => steals.push(why) } });
  assert.match(steals[0]!, /no progress/);
  assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
  await w1.close();
  assert.equal(fs.existsSync(lockFile), false);
  // a dead pid on this host
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  writeLock({ pid: Number(dead.stdout.trim()) });
  const w2 = await openWriter(dir, key, { ...opts(4, 2, 2), lock: { timeoutMs: 1000, onSteal: (_h, why) => steals.push(why) } });
  assert.match(steals[1]!, /not running/);
  // while we hold it, another writer in this process waits
  await assert.rejects(openWriter(dir, key, { ...opts(4, 2, 2), lock: { timeoutMs: 100, pollMs: 20 } }), UserError);
  for (const c of w2.pendingChunks()) await w2.writeChunk(c.start, rowsOf(c.start, c.end, 2));
  await w2.finish(labelsOf(4));
  assert.equal(fs.existsSync(lockFile), false);
});

test('listEntries and removeEntries filters', async (t) => {
  const dir = tmpCacheDir(t);
  assert.deepEqual(await listEntries(path.join(dir, 'nothing-here')), []);
  await writeEntry(dir, baseKey({ dataset: 'cifar10' }), 10, 4, 4, 'mini');
  await writeEntry(dir, baseKey({ dataset: 'cifar10', split: 'train' }), 10, 4, 4, 'mini');
  await writeEntry(dir, baseKey({ dataset: 'cifar10', kind: 'text', textsHash: 't' }), 5, 4, 4, 'mini');
  await writeEntry(dir, baseKey({ dataset: 'mnist', modelIdentity: 'b'.repeat(64) }), 10, 4, 4, 'ViT-B/32');
  const w = await openWriter(dir, { key: baseKey({ dataset: 'mnist', split: 'train' }), label: { modelName: 'mini' } }, opts(30, 4, 4));
  await w.writeChunk(0, rowsOf(0, 4, 4));
  await w.writeChunk(8, rowsOf(8, 12, 4));

  let rows = await listEntries(dir);
  assert.equal(rows.length, 5);
  const inc = rows.find((r) => !r.complete)!;
  assert.deepEqual([inc.dataset, inc.split, inc.kind, inc.modelName, inc.n, inc.dim, inc.rowsDone, inc.writing], ['mnist', 'train', 'image', 'mini', 30, 4, 8, true]);
  const c = rows.find((r) => r.dataset === 'mnist' && r.complete)!;
  assert.deepEqual([c.modelName, c.n, c.dim, c.kind], ['ViT-B/32', 10, 4, 'image']);
  assert.equal(c.bytes, fs.readdirSync(c.dir).reduce((a, f) => a + fs.statSync(path.join(c.dir, f)).size, 0));
  assert.ok(c.created && !Number.isNaN(Date.parse(c.created)));
  assert.equal(rows.filter((r) => r.complete).length, 4);

  await assert.rejects(removeEntries(dir, {}), UserError);
  // an incomplete entry being written is left alone
  assert.deepEqual(await removeEntries(dir, { incomplete: true }), { removed: 0, bytes: 0, busy: 1 });
  await w.close();
  const incBytes = (await listEntries(dir)).find((r) => !r.complete)!.bytes;
  assert.ok(incBytes > 2 * 4 * 4 * 4 && incBytes < inc.bytes, 'the lock file is gone after close()');
  const r1 = await removeEntries(dir, { incomplete: true });
  assert.equal(r1.removed, 1);
  assert.equal(r1.bytes, incBytes);
  assert.equal(fs.existsSync(inc.dir), false);

  assert.equal((await removeEntries(dir, { dataset: 'cifar10', kind: 'text' })).removed, 1);
  assert.equal((await removeEntries(dir, { model: 'ViT-B/32' })).removed, 1);
  assert.equal((await removeEntries(dir, { model: 'nomatch' })).removed, 0);
  rows = await listEntries(dir);
  assert.deepEqual(rows.map((r) => [r.dataset, r.split]).sort(), [['cifar10', 'test'], ['cifar10', 'train']]);
  assert.equal((await removeEntries(dir, { split: 'train', model: 'aaaaaa' })).removed, 1);
  assert.equal((await removeEntries(dir, { all: true })).removed, 1);
  assert.deepEqual(await listEntries(dir), []);
  assert.deepEqual(fs.readdirSync(dir), [], 'no empty 2-hex directories or trash left');
});
