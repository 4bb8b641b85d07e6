/** "did you mean" for a misspelt name, as commander does for commands and flags. */
import { distance } from 'fastest-levenshtein';

/**
 * The known names closest to `name` (case-insensitive edit distance at most 2, or at most a third of the name),
 * as `; did you mean X?` / `; did you mean X or Y?`, or '' when none is close.
 */
export function didYouMean(name: string, known: readonly string[]): string {
  const n = name.trim().toLowerCase();
  const limit = Math.max(2, Math.floor(n.length / 3));
  const scored = known.map((k) => ({ k, d: distance(n, k.toLowerCase()) })).filter((x) => x.d <= limit && x.d > 0);
  if (!scored.length) return '';
  const best = Math.min(...scored.map((x) => x.d));
  const names = scored.filter((x) => x.d === best).map((x) => x.k).slice(0, 3);
  return `; did you mean ${names.join(' or ')}?`;
}
