import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRng, stratifiedSubset } from '../../src/data/subset.js';

test('makeRng: deterministic, pinned sequence, seeds differ, int/float in range', () => {
  const a = makeRng(42);
  const b = makeRng(42);
  const seqA = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(Array.from({ length: 5 }, () => b.nextU32()), seqA);
  // pinned: pure 32-bit integer arithmetic gives these on every machine; a change here changes
  // every seeded subset (and so cached results that depend on them)
  assert.deepEqual(seqA, [2837322924, 544945897, 479756282, 3500138142, 339756180]);
  assert.notDeepEqual(Array.from({ length: 5 }, () => makeRng(43).nextU32()), seqA);
  assert.notEqual(makeRng(2 ** 40).nextU32(), makeRng(0).nextU32());
  const r = makeRng(7);
  const counts = new Array(6).fill(0);
  for (let k = 0; k < 6000; k++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `int(6) roughly uniform: ${counts}`);
  for (let k = 0; k < 1000; k++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
  }
  assert.deepEqual(makeRng(1).shuffle([1, 2, 3, 4, 5, 6]).sort(), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => makeRng(NaN));
});

function labelsOf(counts: number[], seed = 5): Int32Array {
  const out: number[] = [];
  counts.forEach((c, k) => {
    for (let i = 0; i < c; i++) out.push(k);
  });
  return Int32Array.from(makeRng(seed).shuffle(out));
}

test('stratifiedSubset: deterministic, sorted, unique, proportional', () => {
  const labels = labelsOf([500, 300, 150, 50]);
  const s1 = stratifiedSubset(labels, 4, 100, 123);
  assert.deepEqual(stratifiedSubset(labels, 4, 100, 123), s1);
  assert.notDeepEqual(stratifiedSubset(labels, 4, 100, 124), s1);
  assert.equal(s1.length, 100);
  assert.equal(new Set(s1).size, 100);
  for (let i = 1; i < s1.length; i++) assert.ok(s1[i - 1]! < s1[i]!);
  const per = [0, 0, 0, 0];
  for (const i of s1) per[labels[i]!]!++;
  assert.deepEqual(per, [50, 30, 15, 5]);
  // pinned small case
  const small = Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  assert.deepEqual([...stratifiedSubset(small, 3, 5, 1)], [2, 8, 9, 11, 19]);
});

test('stratifiedSubset: every class at least once when limit >= classes; limit >= n -> all', () => {
  const labels = labelsOf([990, 5, 3, 1, 1]);
  const s = stratifiedSubset(labels, 5, 10, 9);
  const per = [0, 0, 0, 0, 0];
  for (const i of s) per[labels[i]!]!++;
  assert.equal(s.length, 10);
  assert.ok(per.every((c) => c >= 1), `${per}`);
  assert.deepEqual([...stratifiedSubset(labels, 5, 5000, 9)], [...Array(1000).keys()]);
  assert.equal(stratifiedSubset(labels, 5, 0, 9).length, 0);
  // a class with no images is fine; fewer slots than classes keeps the biggest shares
  const s2 = stratifiedSubset(labelsOf([10, 10, 0, 10]), 4, 2, 1);
  assert.equal(s2.length, 2);
  assert.throws(() => stratifiedSubset(Int32Array.from([0, 5]), 2, 1, 1), RangeError);
});

test('rng.fillInt gives the numbers of as many int(n) calls, and leaves the generator where they would', () => {
  for (const n of [1, 2, 7, 10_000, 65_537, 2 ** 31 - 1, 2 ** 31]) {
    for (const seed of [0, 1, 12345]) {
      const a = makeRng(seed);
      const b = makeRng(seed);
      const out = new Int32Array(5000);
      a.fillInt(out, n);
      const expect = Int32Array.from({ length: out.length }, () => b.int(n));
      assert.deepEqual(out, expect, `n=${n} seed=${seed}`);
      assert.equal(a.nextU32(), b.nextU32(), `state after n=${n} seed=${seed}`);
    }
  }
  assert.throws(() => makeRng(0).fillInt(new Int32Array(1), 2 ** 31 + 1), RangeError);
});
