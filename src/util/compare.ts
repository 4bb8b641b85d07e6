/** Comparators shared by every sort that must be deterministic (code-unit order, independent of locale). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
