/**
 * Deterministic pseudo-random numbers (xoshiro128**, seeded through splitmix32): plain 32-bit
 * integer arithmetic, so the same seed gives the same sequence on every machine and Node version.
 */
export interface Rng {
  /** next uint32 */
  nextU32(): number;
  /** uniform float in [0, 1) (53 random bits) */
  float(): number;
  /** unbiased integer in [0, n) for 1 <= n <= 2^32 */
  int(n: number): number;
  /** `out.length` draws of int(n), in order (the same numbers as that many int(n) calls, in one tight loop) */
  fillInt(out: Int32Array, n: number): void;
  /** in-place Fisher-Yates shuffle; returns the same array */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T;
}

export function makeRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`makeRng: seed must be a finite number, got ${seed}`);
  // fold the seed (any safe integer, negative or not; fractions are truncated) into 32 bits
  const s = Math.trunc(seed);
  let x = (s >>> 0) ^ Math.imul(Math.floor(s / 4294967296) >>> 0, 0x9e3779b1);
  const splitmix32 = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32(), b = splitmix32(), c = splitmix32(), d = splitmix32();
  if ((a | b | c | d) === 0) a = 1;
  const nextU32 = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  const int = (n: number): number => {
    if (!(n >= 1 && n <= 4294967296) || !Number.isInteger(n)) throw new RangeError(`rng.int: bad bound ${n}`);
    const lim = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = nextU32();
      if (r < lim) return r % n;
    }
  };
  const fillInt = (out: Int32Array, n: number): void => {
    if (!(n >= 1 && n <= 2147483648) || !Number.isInteger(n)) throw new RangeError(`rng.fillInt: bad bound ${n}`);
    const lim = 4294967296 - (4294967296 % n);
    const inv = 1 / n;
    // the state in locals: a bootstrap draws millions of these
    let [sa, sb, sc, sd] = [a, b, c, d];
    for (let i = 0; i < out.length; i++) {
      for (;;) {
        const m = Math.imul(sb, 5);
        const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
        const t = sb << 9;
        sc ^= sa;
        sd ^= sb;
        sb ^= sc;
        sa ^= sd;
        sc ^= t;
        sd = (sd << 11) | (sd >>> 21);
        if (r < lim) {
          // r % n without a floating-point remainder (slow for r >= 2^31): a quotient from the reciprocal is off
          // by at most one, and the correction makes the remainder exact
          let m = r - Math.floor(r * inv) * n;
          if (m >= n) m -= n;
          else if (m < 0) m += n;
          out[i] = m;
          break;
        }
      }
    }
    [a, b, c, d] = [sa, sb, sc, sd];
  };
  return {
    nextU32,
    fillInt,
    float: () => ((nextU32() >>> 5) * 67108864 + (nextU32() >>> 6)) / 9007199254740992,
    int,
    shuffle(arr) {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const t = arr[i];
        arr[i] = arr[j];
        arr[j] = t;
      }
      return arr;
    },
  };
}

function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}

/**
 * A class-stratified, seeded subset of `limit` indices into `labels`, sorted ascending.
 * Each class gets a share proportional to its size (largest remainder), and every class that
 * has images gets at least one when limit >= the number of such classes. limit >= n returns
 * every index. Labels outside [0, nClasses) are a programming error (RangeError).
 */
export function stratifiedSubset(labels: Int32Array, nClasses: number, limit: number, seed: number): Int32Array {
  const n = labels.length;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`stratifiedSubset: bad limit ${limit}`);
  if (limit >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= nClasses) throw new RangeError(`stratifiedSubset: label ${y} at ${i} outside [0, ${nClasses})`);
    byClass[y]!.push(i);
  }
  const present = byClass.map((m, c) => (m.length > 0 ? c : -1)).filter((c) => c >= 0);
  const quota = new Array<number>(nClasses).fill(0);
  // proportional shares, largest remainder (ties: lower class index first)
  const rem: { c: number; r: number }[] = [];
  let given = 0;
  for (const c of present) {
    const exact = (limit * byClass[c]!.length) / n;
    quota[c] = Math.floor(exact);
    given += quota[c]!;
    rem.push({ c, r: exact - quota[c]! });
  }
  rem.sort((p, q) => q.r - p.r || p.c - q.c);
  for (let k = 0; given < limit; k++, given++) quota[rem[k % rem.length]!.c]!++;
  // at least one per class when there is room: take from the classes with the largest quota
  if (limit >= present.length) {
    for (const c of present) {
      if (quota[c]! > 0) continue;
      let donor = -1;
      for (const d of present) if (donor < 0 || quota[d]! > quota[donor]!) donor = d;
      quota[donor]!--;
      quota[c] = 1;
    }
  }
  const rng = makeRng(seed);
  const out: number[] = [];
  for (const c of present) {
    const members = byClass[c]!;
    const q = quota[c]!;
    // partial Fisher-Yates: the first q positions become a uniform sample
    for (let i = 0; i < q; i++) {
      const j = i + rng.int(members.length - i);
      const t = members[i]!;
      members[i] = members[j]!;
      members[j] = t;
      out.push(members[i]!);
    }
  }
  return Int32Array.from(out).sort();
}
