import { createHash } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

// Content hashes are memoised per process by (path, size, mtime): a model file is hashed once per run.
const memo = new Map<string, string>();

/**
 * sha256 (hex) of a file's content. A file in the Hugging Face cache links to blobs/<sha256> (LFS files, verified
 * when downloaded), so that name is used instead of re-reading a gigabyte-sized model on every run.
 */
export async function fileSha256(file: string): Promise<string> {
  const st = statSync(file);
  const memoKey = `${file}\0${st.size}\0${st.mtimeMs}`;
  let digest = memo.get(memoKey);
  if (!digest) {
    const blob = path.basename(realpathSync(file));
    digest = /^[0-9a-f]{64}$/.test(blob) ? blob : await hashFile(file);
    memo.set(memoKey, digest);
  }
  return digest;
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 22 })
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
