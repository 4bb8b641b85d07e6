// Flags of the benchmark scripts: `--name value`, or a bare `--name` for booleans; the default's type decides.
const args = process.argv.slice(2);

export function flag(name, def) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  if (typeof def === 'boolean') return true;
  const v = args[i + 1];
  return typeof def === 'number' ? Number(v) : v;
}
