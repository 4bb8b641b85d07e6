import { UserError } from '../errors.js';

/** How class names are compared across sources: case, `_`/`-` and repeated spaces do not matter. */
export function normaliseClassName(s: string): string {
  return s.toLowerCase().replace(/[_\s]+/g, ' ').replace(/\s*-\s*/g, '-').trim();
}

/**
 * For each of a package's classes, the index of the same class in `target` (the paper's list).
 * - same count required (else a one-line error naming both counts);
 * - names that match (normalised; the k-th repeat of a name matches the k-th repeat) give the mapping; when every
 *   name matches, any order is handled (Caltech-101 in VTAB/tfds order vs the paper's torchvision order);
 * - when some names differ in spelling, the lists must agree in order wherever names do match: the mapping is then
 *   the identity; a reordering that cannot be resolved by name is an error listing the names that do not match.
 */
export function mapClassesByName(source: string[], target: string[], what: string): Int32Array {
  if (source.length !== target.length) {
    throw new UserError(`${what}: ${source.length} classes in the package but ${target.length} in the paper's list`);
  }
  const n = source.length;
  const slots = new Map<string, number[]>();
  target.forEach((t, j) => {
    const k = normaliseClassName(t);
    const list = slots.get(k);
    if (list) list.push(j);
    else slots.set(k, [j]);
  });
  const map = new Int32Array(n).fill(-1);
  const unmatched: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = slots.get(normaliseClassName(source[i]))?.shift();
    if (j === undefined) unmatched.push(i);
    else map[i] = j;
  }
  if (unmatched.length === 0) return map;
  const sameOrder = map.every((j, i) => j === -1 || j === i);
  if (sameOrder) return Int32Array.from({ length: n }, (_, i) => i);
  const names = unmatched.slice(0, 5).map((i) => JSON.stringify(source[i])).join(', ');
  throw new UserError(
    `${what}: the package's classes are in another order than the paper's and ${unmatched.length} of them (${names}${unmatched.length > 5 ? ', ...' : ''}) match no paper class name`,
  );
}
