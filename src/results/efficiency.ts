/**
 * Data efficiency of zero-shot transfer (the paper's Figure 7): how many labelled examples per class a
 * linear classifier on the same features needs to match zero-shot accuracy.
 */

export interface ShotPoint {
  /** labelled examples per class (the full linear probe: n_train / classes) */
  x: number;
  /** accuracy (percent) at x */
  acc: number;
}

/** Format an example count: integers as is ("16", "5000"), others with 1 decimal ("5.4"). */
export function formatShots(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const s = x.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/**
 * Examples per class to match `zeroshot`: log-linear interpolation (linear in log2 x) between the
 * measured points (few-shot means, then the full linear probe as the last point), at the first
 * segment where the curve reaches the zero-shot accuracy.
 * Returns a number with 1 decimal ("5.4"), `<K` when zero-shot is below the smallest measured point K
 * ("<1"), `> X` when no point reaches it ("> 16"), or null without any point.
 */
export function zeroshotEquivalentShots(points: readonly ShotPoint[], zeroshot: number): string | null {
  const pts = points.filter((p) => Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.acc)).sort((a, b) => a.x - b.x);
  if (!pts.length || !Number.isFinite(zeroshot)) return null;
  if (zeroshot < pts[0].acc) return `<${formatShots(pts[0].x)}`;
  if (zeroshot === pts[0].acc) return pts[0].x.toFixed(1);
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (b.acc >= zeroshot && a.acc <= zeroshot) {
      if (b.acc === a.acc) return a.x.toFixed(1);
      const t = (zeroshot - a.acc) / (b.acc - a.acc);
      const lx = Math.log2(a.x) + t * (Math.log2(b.x) - Math.log2(a.x));
      return (2 ** lx).toFixed(1);
    }
  }
  return `> ${formatShots(pts[pts.length - 1].x)}`;
}

/** The numeric value of a zeroshot_equivalent_shots string, or null for "<1" / "> 16" / blank. */
export function equivalentShotsValue(s: string | null | undefined): number | null {
  if (s == null) return null;
  const t = s.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return Number(t);
}
