import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the CLI runs from dist/src/, the sources from src/. */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8'));
      if (pkg.name === 'clip-bench') return d;
    } catch {
      /* not here */
    }
    if (path.dirname(d) === d) throw new Error('clip-bench package.json not found');
  }
}

let version: string | undefined;
export function toolVersion(): string {
  version ??= JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version as string;
  return version;
}
