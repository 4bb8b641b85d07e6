import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { entryDir, loadEntry, openWriter } from '../../src/cache/index.js';
import { assertSameEntry, baseKey, rowsOf, labelsOf, runChild, tmpCacheDir, writeChildScript, writeEntry } from '../support/cache-util.js';

const [N, DIM, CHUNK] = [40, 8, 4];

test('a child killed with SIGKILL mid-write leaves complete chunks; the resumed entry equals an uninterrupted one', async (t) => {
  const tmp = tmpCacheDir(t);
  const script = writeChildScript(tmp);
  const key = baseKey();
  const refDir = path.join(tmp, 'ref');
  await writeEntry(refDir, key, N, DIM, CHUNK);
  const cacheDir = path.join(tmp, 'cache');

  const run = runChild(script, [cacheDir, JSON.stringify(key), String(N), String(DIM), String(CHUNK), '120']);
  await run.until((ev) => ev.filter((e) => e.event === 'chunk').length >= 3);
  run.child.kill('SIGKILL');
  const r = await run.exited;
  assert.equal(r.signal, 'SIGKILL');
  const written = run.events.filter((e) => e.event === 'chunk').length;
  assert.ok(written >= 3 && written < N / CHUNK, `child wrote ${written} chunks`);
  const edir = entryDir(cacheDir, key);
  assert.ok(fs.existsSync(path.join(edir, 'lock')), 'the dead child left its lock');
  assert.equal(fs.existsSync(path.join(edir, 'meta.json')), false);
  assert.equal(await loadEntry(cacheDir, key), null);

  // resume in-process: the dead child's lock is stolen, its chunks kept
  const steals: string[] = [];
  const w = await openWriter(cacheDir, { key, label: { modelName: 'mini' } }, {
    n: N,
    dim: DIM,
    chunkSize: 16, // another batch size: the recorded chunk size wins
    toolVersion: '0.0.0-test',
    lock: { timeoutMs: 5000, onSteal: (_h, why) => steals.push(why) },
  });
  assert.match(steals[0] ?? '', /not running/);
  assert.equal(w.chunkSize, CHUNK);
  assert.ok(w.doneRows >= written * CHUNK, `${w.doneRows} rows done`);
  const pending = w.pendingChunks();
  assert.equal(pending.length, (N - w.doneRows) / CHUNK);
  for (const c of pending) {
    assert.ok(!w.isDone(c.start, c.start + 1), 'a pending chunk is not recomputing done rows');
    await w.writeChunk(c.start, rowsOf(c.start, c.end, DIM));
  }
  await w.finish(labelsOf(N), { skipped: [{ index: 3, source: 'x.png', reason: 'bad png' }], note: 'hi' });
  assertSameEntry(edir, entryDir(refDir, key));
  const e = await loadEntry(cacheDir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, N, DIM));
});

test('two child processes writing the same key at once produce one valid entry, computed once', async (t) => {
  const tmp = tmpCacheDir(t);
  const script = writeChildScript(tmp);
  const key = baseKey({ dataset: 'concurrent' });
  const refDir = path.join(tmp, 'ref');
  await writeEntry(refDir, key, N, DIM, CHUNK);
  const cacheDir = path.join(tmp, 'cache');
  const args = [cacheDir, JSON.stringify(key), String(N), String(DIM), String(CHUNK), '25'];
  const runs = [runChild(script, args), runChild(script, args)];
  const results = await Promise.all(runs.map((r) => r.exited));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const finished = runs.map((r) => r.events.find((e) => e.event === 'finished')!);
  const chunkCounts = finished.map((f) => f.written as number).sort((a, b) => a - b);
  // the lock serialises them: one computes everything, the other finds the entry complete
  assert.deepEqual(chunkCounts, [0, N / CHUNK]);
  assert.deepEqual(finished.map((f) => f.wasComplete).sort(), [false, true]);
  const edir = entryDir(cacheDir, key);
  assertSameEntry(edir, entryDir(refDir, key));
  const e = await loadEntry(cacheDir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, N, DIM));
  assert.deepEqual(e.labels, labelsOf(N));
});

test('a writer resumes the chunks of a child killed while another child waits for the lock', async (t) => {
  const tmp = tmpCacheDir(t);
  const script = writeChildScript(tmp);
  const key = baseKey({ dataset: 'handover' });
  const refDir = path.join(tmp, 'ref');
  await writeEntry(refDir, key, N, DIM, CHUNK);
  const cacheDir = path.join(tmp, 'cache');
  const args = [cacheDir, JSON.stringify(key), String(N), String(DIM), String(CHUNK), '60'];
  const a = runChild(script, args);
  await a.until((ev) => ev.some((e) => e.event === 'chunk'));
  const b = runChild(script, args); // waits on a's lock
  await a.until((ev) => ev.filter((e) => e.event === 'chunk').length >= 4);
  a.child.kill('SIGKILL');
  await a.exited;
  const rb = await b.exited;
  assert.equal(rb.code, 0, rb.stderr);
  const open = b.events.find((e) => e.event === 'open')!;
  const fin = b.events.find((e) => e.event === 'finished')!;
  assert.ok((open.done as number) >= 4 * CHUNK, 'b took over a\'s chunks');
  assert.equal(fin.written, (N - (open.done as number)) / CHUNK);
  const edir = entryDir(cacheDir, key);
  assertSameEntry(edir, entryDir(refDir, key));
});
