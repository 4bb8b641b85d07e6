import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { entryDir, listEntries, loadEntry, openWriter } from '../../src/cache/index.js';
import { finishEntry } from '../../src/cache/store.js';
import { tryLock } from '../../src/util/lock.js';
import { assertSameEntry, baseKey, isBadRow, skippedOf, labelsOf, rowsOf, runChild, tmpCacheDir, writeShardChildScript, writeShardReference } from '../support/cache-util.js';

const [N, DIM, CHUNK] = [100, 8, 8]; // 13 grid chunks

/** The shard child script, a key, the single-process reference entry of it and an empty cache beside it. */
async function shardSetup(t: { after(fn: () => void): void }, dataset: string) {
  const tmp = tmpCacheDir(t);
  const key = baseKey({ dataset });
  const refDir = path.join(tmp, 'ref');
  await writeShardReference(refDir, key, N, DIM, CHUNK);
  return { script: writeShardChildScript(tmp), key, refDir, cacheDir: path.join(tmp, 'cache') };
}

const badRows = () => Array.from({ length: N }, (_, r) => r).filter(isBadRow);

test('4 shard processes fill one entry at once, each its own block of the grid; the last to finish assembles it, byte-identical to one process', async (t) => {
  const { script, key, refDir, cacheDir } = await shardSetup(t, 'sharded');
  const runs = [0, 1, 2, 3].map((i) => runChild(script, [cacheDir, JSON.stringify(key), String(N), String(DIM), String(CHUNK), '15', String(i), '4']));
  const results = await Promise.all(runs.map((r) => r.exited));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const opens = runs.map((r) => r.events.find((e) => e.event === 'open')!);
  const shares = opens.map((o) => o.share as { start: number; end: number });
  // blocks of the 13-chunk grid: 3, 3, 3, 4 chunks
  assert.deepEqual(shares, [
    { start: 0, end: 24 },
    { start: 24, end: 48 },
    { start: 48, end: 72 },
    { start: 72, end: 100 },
  ]);
  const finished = runs.map((r) => r.events.find((e) => e.event === 'finished')!);
  // nobody waited for or took over another's chunks
  assert.deepEqual(finished.map((f) => f.written), [3, 3, 3, 4]);
  assert.equal(finished.filter((f) => f.assembled).length, 1, JSON.stringify(finished));
  const edir = entryDir(cacheDir, key);
  assertSameEntry(edir, entryDir(refDir, key));
  const e = await loadEntry(cacheDir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, N, DIM));
  assert.deepEqual(e.labels, labelsOf(N));
  // skipped images recorded per chunk: the union, whoever assembled
  assert.deepEqual(e.meta.skipped.items.map((s) => s.index), badRows());
  assert.deepEqual(e.meta.producers?.map((p) => p.rows), [[[0, N]]]);
});

test('a shard killed mid-run leaves nothing half-assembled; resubmitted, it computes only its missing chunks and assembles the entry', async (t) => {
  const { script, key, refDir, cacheDir } = await shardSetup(t, 'killed');
  const args = (i: number, delay: number) => [cacheDir, JSON.stringify(key), String(N), String(DIM), String(CHUNK), String(delay), String(i), '3'];
  const slow = runChild(script, args(1, 150));
  await slow.until((ev) => ev.filter((e) => e.event === 'chunk').length >= 2);
  slow.child.kill('SIGKILL');
  assert.equal((await slow.exited).signal, 'SIGKILL');
  const written = slow.events.filter((e) => e.event === 'chunk').length;
  const others = [runChild(script, args(0, 0)), runChild(script, args(2, 0))];
  for (const r of await Promise.all(others.map((o) => o.exited))) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(others.map((o) => o.events.find((e) => e.event === 'finished')!.status), ['incomplete', 'incomplete']);

  const edir = entryDir(cacheDir, key);
  assert.equal(await loadEntry(cacheDir, key), null);
  for (const f of ['meta.json', 'embeddings.npy', 'labels.npy']) assert.equal(fs.existsSync(path.join(edir, f)), false, f);
  const row = (await listEntries(cacheDir))[0];
  assert.equal(row.complete, false);
  assert.equal(row.writing, false, "the killed shard's claims are stale: their pid is dead on this host");
  // nobody can assemble yet
  assert.equal((await finishEntry(edir, row.hash, '0.0.0-test')).status, 'incomplete');

  const again = runChild(script, args(1, 0));
  const r = await again.exited;
  assert.equal(r.code, 0, r.stderr);
  const open = again.events.find((e) => e.event === 'open')!;
  const share = open.share as { start: number; end: number };
  const shareChunks = Math.ceil((share.end - share.start) / CHUNK);
  assert.ok(written >= 2 && written < shareChunks, `the killed shard wrote ${written} of ${shareChunks} chunks`);
  // the dead shard's claim (same host, dead pid) is taken over; its written chunks are kept
  assert.equal((open.pending as unknown[]).length, shareChunks - written);
  const fin = again.events.find((e) => e.event === 'finished')!;
  assert.deepEqual([fin.written, fin.status, fin.assembled], [shareChunks - written, 'complete', true]);
  assertSameEntry(edir, entryDir(refDir, key));
});

test('claims: a live claim of another host is waited for and a silent one taken over; a later unsharded run completes the entry', async (t) => {
  const cacheDir = tmpCacheDir(t);
  const key = baseKey({ dataset: 'claims' });
  const o = (extra: object) => ({ n: N, dim: DIM, chunkSize: CHUNK, labels: labelsOf(N), toolVersion: '0.0.0-test', pollMs: 20, ...extra });
  // two writers of the same shard: the second finds every chunk of the share claimed and waits for the first
  const a = await openWriter(cacheDir, key, o({ shard: { index: 0, count: 2 } }));
  assert.deepEqual(a.share, { start: 0, end: 48 });
  assert.equal(a.pendingChunks().length, 6);
  const waits: number[] = [];
  const b = await openWriter(cacheDir, key, o({ shard: { index: 0, count: 2 }, onWaitForOthers: (rows: Array<{ start: number; end: number }>) => waits.push(rows.length) }));
  assert.deepEqual(b.pendingChunks(), []);
  const bWork = b.nextWork();
  for (const c of a.pendingChunks()) await a.writeChunk(c.start, rowsOf(c.start, c.end, DIM));
  assert.deepEqual(await bWork, [], "b's share is done without b computing anything");
  assert.equal(waits.length, 1);
  assert.equal((await a.finishShare()).status, 'incomplete');
  assert.equal((await b.finishShare()).status, 'incomplete');

  // the other half: a claim of another host, fresh, then silent (no heartbeat) for longer than staleMs
  const chunksDir = path.join(entryDir(cacheDir, key), 'chunks');
  const foreign = path.join(chunksDir, '48-56.claim');
  fs.writeFileSync(foreign, JSON.stringify({ pid: 4242, hostname: 'node-17', created: new Date().toISOString(), token: 'theirs' }));
  const claimedAt = fs.statSync(foreign).mtimeMs;
  const steals: string[] = [];
  const c = await openWriter(cacheDir, key, o({ shard: { index: 1, count: 2 }, claims: { staleMs: 1500, onSteal: (_h: unknown, why: string) => steals.push(why) } }));
  assert.deepEqual(c.pendingChunks()[0], { start: 56, end: 64 }, 'the live foreign claim is left alone');
  for (const ch of c.pendingChunks()) await c.writeChunk(ch.start, rowsOf(ch.start, ch.end, DIM));
  const late = await c.nextWork();
  assert.deepEqual(late, [{ start: 48, end: 56 }]);
  assert.ok(Date.now() - claimedAt >= 1500, 'taken over only once it went silent for staleMs');
  assert.match(steals[0] ?? '', /no progress/);
  // c stops here (say it fails): nothing is assembled, and an unsharded run that needs the entry completes it
  await c.close();
  assert.equal(await loadEntry(cacheDir, key), null);
  const d = await openWriter(cacheDir, key, o({}));
  assert.deepEqual(d.pendingChunks(), [{ start: 48, end: 56 }]);
  await d.writeChunk(48, rowsOf(48, 56, DIM));
  assert.deepEqual(await d.nextWork(), []);
  await d.finish(null); // labels stored when the entry was started
  const e = await loadEntry(cacheDir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, N, DIM));
  assert.deepEqual(e.labels, labelsOf(N));
});

test('cache finish assembles an entry whose chunks are all present, from the stored labels and per-chunk records', async (t) => {
  const cacheDir = tmpCacheDir(t);
  const key = baseKey({ dataset: 'finish' });
  const ref = path.join(cacheDir, 'ref');
  await writeShardReference(ref, key, N, DIM, CHUNK);
  const cache = path.join(cacheDir, 'cache');
  for (const index of [0, 1]) {
    const w = await openWriter(cache, { key, label: { modelName: 'mini' } }, { n: N, dim: DIM, chunkSize: CHUNK, labels: labelsOf(N), toolVersion: '0.0.0-test', shard: { index, count: 2 } });
    for (const c of w.pendingChunks()) await w.writeChunk(c.start, rowsOf(c.start, c.end, DIM), { skipped: skippedOf(c.start, c.end) });
    // as if the shard died before its own assembly attempt
    await w.close();
  }
  const [row] = await listEntries(cache);
  assert.deepEqual([row.complete, row.writing, row.rowsDone], [false, false, N]);
  const r = await finishEntry(row.dir, row.hash, '0.0.0-test');
  assert.equal(r.status, 'complete');
  assert.ok(r.status === 'complete' && r.assembled);
  assertSameEntry(row.dir, entryDir(ref, key));
  assert.deepEqual((await finishEntry(row.dir, row.hash, '0.0.0-test')).status, 'complete');
});

test('the last shard to finish assembles the entry even while another shard holds the lock to check it', async (t) => {
  const cacheDir = tmpCacheDir(t);
  const key = baseKey({ dataset: 'race' });
  const o = (index: number) => ({ n: N, dim: DIM, chunkSize: CHUNK, labels: labelsOf(N), toolVersion: '0.0.0-test', pollMs: 20, shard: { index, count: 2 } });
  const a = await openWriter(cacheDir, key, o(0));
  const b = await openWriter(cacheDir, key, o(1));
  for (const c of a.pendingChunks()) await a.writeChunk(c.start, rowsOf(c.start, c.end, DIM));
  // another shard holds the entry's lock (it is checking, say): with b's rows missing, a reports them at once
  const edir = entryDir(cacheDir, key);
  const held = await tryLock(path.join(edir, 'lock'), { progressDir: path.join(edir, 'chunks'), recreateDir: false });
  assert.ok('lock' in held);
  const early = await a.finishShare();
  assert.equal(early.status, 'incomplete');
  assert.ok(early.status === 'incomplete' && early.missing.reduce((s, m) => s + m.end - m.start, 0) === 52);
  // b writes the last chunks while the holder (which saw them missing) still has the lock: b waits for it, then assembles
  for (const c of b.pendingChunks()) await b.writeChunk(c.start, rowsOf(c.start, c.end, DIM));
  const done = b.finishShare();
  await new Promise((resolve) => setTimeout(resolve, 150));
  await held.lock.release();
  const r = await done;
  assert.ok(r.status === 'complete' && r.assembled, JSON.stringify(r));
  const e = await loadEntry(cacheDir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, N, DIM));
});
