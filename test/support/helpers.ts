import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this module runs from dist/test/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
