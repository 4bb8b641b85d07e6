import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cacheKeyHash, loadEntry, npyHeader, parseNpyHeader } from '../../src/cache/index.js';
import { baseKey, hasNumpy, labelsOf, rowsOf, tmpCacheDir, writeEntry } from '../support/cache-util.js';

test('npyHeader: 64-byte aligned, parses back', () => {
  for (const shape of [[10000, 512], [3], [0, 4], [123456789012, 1]]) {
    const h = npyHeader('<f4', shape);
    assert.equal(h.length % 64, 0);
    assert.equal(h[h.length - 1], 0x0a);
    const p = parseNpyHeader(h);
    assert.deepEqual(p.shape, shape);
    assert.equal(p.descr, '<f4');
    assert.equal(p.fortranOrder, false);
    assert.equal(p.dataOffset, h.length);
    assert.equal(p.major, 1);
  }
  assert.throws(() => parseNpyHeader(Buffer.from('not numpy at all')), /magic/);
});

test('entry round trip: our reader, and the files are what numpy.save would write', async (t) => {
  const dir = tmpCacheDir(t);
  const key = baseKey();
  const n = 37;
  const dim = 16;
  const meta = await writeEntry(dir, key, n, dim, 5);
  assert.equal(meta.n, n);
  assert.equal(meta.dim, dim);
  assert.equal(meta.labelsCount, n);
  assert.equal(meta.skipped.count, 1);
  assert.deepEqual(meta.extra, { note: 'hi' });
  const e = await loadEntry(dir, key);
  assert.ok(e);
  assert.deepEqual(e.embeddings, rowsOf(0, n, dim));
  assert.deepEqual(e.labels, labelsOf(n));
  assert.equal(e.meta.label.modelName, 'mini');
  assert.equal(e.embeddings.byteOffset % 64, 0);
  const files = fs.readdirSync(e.dir).sort();
  assert.deepEqual(files, ['embeddings.npy', 'labels.npy', 'meta.json']);
  const hEmb = parseNpyHeader(fs.readFileSync(path.join(e.dir, 'embeddings.npy')));
  assert.deepEqual([hEmb.descr, hEmb.shape, hEmb.fortranOrder], ['<f4', [n, dim], false]);
  const hLab = parseNpyHeader(fs.readFileSync(path.join(e.dir, 'labels.npy')));
  assert.deepEqual([hLab.descr, hLab.shape], ['<i4', [n]]);
  const metaJson = JSON.parse(fs.readFileSync(path.join(e.dir, 'meta.json'), 'utf8'));
  assert.equal(metaJson.hash, cacheKeyHash(key));
  assert.equal(metaJson.toolVersion, '0.0.0-test');

  if (!hasNumpy()) {
    t.diagnostic('numpy not available: skipped the numpy.load check');
    return;
  }
  const py = `
import numpy as np, io, sys, json
d = sys.argv[1]
e = np.load(d + '/embeddings.npy'); l = np.load(d + '/labels.npy')
out = {'shape': list(e.shape), 'dtype': e.dtype.str, 'c': bool(e.flags['C_CONTIGUOUS']), 'lshape': list(l.shape), 'ldtype': l.dtype.str,
       'first': [float(x) for x in e[1, :3]], 'labels': [int(x) for x in l[:12]]}
for name, arr in (('embeddings.npy', e), ('labels.npy', l)):
    b = io.BytesIO(); np.save(b, arr)
    out[name] = b.getvalue() == open(d + '/' + name, 'rb').read()
print(json.dumps(out))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, e.dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual(o.shape, [n, dim]);
  assert.equal(o.dtype, '<f4');
  assert.equal(o.c, true);
  assert.deepEqual(o.lshape, [n]);
  assert.equal(o.ldtype, '<i4');
  assert.deepEqual(o.first, Array.from(rowsOf(1, 2, dim).slice(0, 3)));
  assert.deepEqual(o.labels, Array.from(labelsOf(12)));
  assert.equal(o['embeddings.npy'], true, 'embeddings.npy is byte-identical to numpy.save output');
  assert.equal(o['labels.npy'], true, 'labels.npy is byte-identical to numpy.save output');
});
