import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileDigests } from '../util/fingerprint.js';

/**
 * sha256 (hex) of a file's content. A file in the Hugging Face cache links to blobs/<sha256> (LFS files, verified
 * when downloaded), so that name is used; any other file goes through the persistent hash memo that dataset
 * fingerprints use (size, mtime, ctime and inode unchanged: the remembered digest), so a gigabyte-sized model is
 * read once, not on every run.
 */
export async function fileSha256(file: string): Promise<string> {
  const real = realpathSync(file);
  const blob = path.basename(real);
  if (/^[0-9a-f]{64}$/.test(blob) && path.basename(path.dirname(real)) === 'blobs') return blob;
  return fileDigests(path.dirname(real), [blob])[0]!.sha256;
}
