import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { cacheKeyHash, canonicalJson, defaultCacheDir, entryDir, hashTexts, type CacheKey } from '../../src/cache/index.js';
import { baseKey } from '../support/cache-util.js';

test('cacheKeyHash: sha256 hex of the canonical JSON; entry dir is <cacheDir>/<2 hex>/<hash>', () => {
  const h = cacheKeyHash(baseKey());
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(entryDir('/c', baseKey()), path.join('/c', h.slice(0, 2), h));
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: null }], u: undefined }), '{"a":[{"c":null,"d":1}],"b":1}');
});

test('cacheKeyHash: key order (top level and nested) does not matter', () => {
  const k = baseKey();
  const reversed = Object.fromEntries(Object.entries(k).reverse()) as unknown as CacheKey;
  reversed.preprocess = Object.fromEntries(Object.entries(k.preprocess).reverse());
  assert.notEqual(JSON.stringify(reversed), JSON.stringify(k));
  assert.equal(cacheKeyHash(reversed), cacheKeyHash(k));
});

test('cacheKeyHash: every field changes the hash', () => {
  const base = baseKey();
  const h0 = cacheKeyHash(base);
  const variants: Array<[string, CacheKey]> = [
    ['modelIdentity', baseKey({ modelIdentity: 'b'.repeat(64) })],
    ['dtype', baseKey({ dtype: 'fp16' })],
    ['provider', baseKey({ provider: 'cuda' })],
    ['preprocess value', baseKey({ preprocess: { ...base.preprocess, cropSize: 288 } })],
    ['preprocess nested array', baseKey({ preprocess: { ...base.preprocess, mean: [0.48, 0.45, 0.41] } })],
    ['preprocess extra field', baseKey({ preprocess: { ...base.preprocess, extra: true } })],
    ['dataset', baseKey({ dataset: 'cifar10' })],
    ['datasetFingerprint', baseKey({ datasetFingerprint: 'fp-2' })],
    ['split', baseKey({ split: 'train' })],
    ['subset', baseKey({ subset: { limit: 100, seed: 0 } })],
    ['kind', baseKey({ kind: 'text', textsHash: hashTexts(['a photo of a cat.']) })],
  ];
  const seen = new Set([h0]);
  for (const [what, k] of variants) {
    const h = cacheKeyHash(k);
    assert.notEqual(h, h0, what);
    seen.add(h);
  }
  assert.equal(seen.size, variants.length + 1);
  assert.notEqual(cacheKeyHash(baseKey({ subset: { limit: 100, seed: 0 } })), cacheKeyHash(baseKey({ subset: { limit: 100, seed: 1 } })));
  assert.notEqual(cacheKeyHash(baseKey({ subset: { limit: 100, seed: 0 } })), cacheKeyHash(baseKey({ subset: { limit: 101, seed: 0 } })));
  const t1 = baseKey({ kind: 'text', textsHash: hashTexts(['a', 'b']) });
  const t2 = baseKey({ kind: 'text', textsHash: hashTexts(['b', 'a']) });
  assert.notEqual(cacheKeyHash(t1), cacheKeyHash(t2));
});

test('cacheKeyHash: rejects malformed keys', () => {
  assert.throws(() => cacheKeyHash(baseKey({ kind: 'text' })), /textsHash/);
  assert.throws(() => cacheKeyHash({ ...baseKey(), tool: 'x' } as unknown as CacheKey), /tool/);
  assert.throws(() => cacheKeyHash(baseKey({ preprocess: { x: Number.NaN } })), /finite/);
});

test('defaultCacheDir: XDG_CACHE_HOME, else ~/.cache', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), '/x/cache/clip-bench/embeddings');
  assert.equal(defaultCacheDir({ HOME: '/home/u' }), '/home/u/.cache/clip-bench/embeddings');
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.cache/clip-bench/embeddings');
});
