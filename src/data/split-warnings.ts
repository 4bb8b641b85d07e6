import type { ImageSource } from './types.js';

/**
 * What is legal but makes the numbers of a split meaningless or incomparable, as one-line warnings: images of a
 * single class (every classifier scores 100%), classes without images, a --limit below the number of classes
 * (some classes are left out of the subset).
 */
export function splitWarnings(name: string, source: ImageSource, limit: number | undefined): string[] {
  const counts = new Int32Array(source.classes.length);
  const t = source.targets;
  // a multilabel image shows every class its targets name
  if (t) for (let i = 0; i < t.data.length; i++) counts[i % t.nClasses]! += t.data[i]!;
  else for (const l of source.labels) if (l >= 0 && l < counts.length) counts[l]++;
  const present = counts.filter((c) => c > 0).length;
  const out: string[] = [];
  if (present === 1) out.push(`${name} holds images of one class only (${source.classes[counts.findIndex((c) => c > 0)]}): accuracy is 100% whatever the model`);
  else if (present < source.classes.length) {
    const empty = source.classes.filter((_, i) => counts[i] === 0);
    out.push(`${name}: ${empty.length} of ${source.classes.length} classes have no images (${empty.slice(0, 3).join(', ')}${empty.length > 3 ? ', ...' : ''})`);
  }
  if (limit !== undefined && limit < present && limit < source.n) {
    out.push(`--limit ${limit} is smaller than the ${present} classes of ${name}: ${present - limit} classes get no image in the subset`);
  }
  return out;
}
