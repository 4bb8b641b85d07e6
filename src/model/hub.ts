import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hubEnv } from '../defaults.js';
import { UserError } from '../errors.js';

/** Where models are fetched from and kept: the Hugging Face hub's conventions, so its cache is shared with Python. */
export interface HubOptions {
  endpoint: string;
  cacheDir: string;
  offline: boolean;
  token?: string;
  onProgress?: (file: string, done: number, total: number | undefined) => void;
}

export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  return hubEnv(env);
}

export interface HubRef {
  repoId: string;
  revision: string;
}

/** `owner/name[@revision]`, or null when the string is not of that form. */
export function parseHubId(spec: string): HubRef | null {
  const m = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(spec);
  return m ? { repoId: m[1], revision: m[2] ?? 'main' } : null;
}

export function repoCacheDir(cacheDir: string, repoId: string): string {
  return path.join(cacheDir, `models--${repoId.replace('/', '--')}`);
}

/**
 * Make `files` of a hub repository available locally and return the snapshot directory holding them.
 * Each entry of `files` is a list of alternatives: the first one the repository has is taken.
 * Layout as huggingface_hub writes it: blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>, refs/<revision>.
 */
export async function fetchHubFiles(ref: HubRef, files: string[][], opts: HubOptions): Promise<string> {
  const repoDir = repoCacheDir(opts.cacheDir, ref.repoId);
  if (opts.offline) return cachedSnapshot(ref, files, repoDir);
  let commit: string | null = null;
  for (const alternatives of files) {
    let found = false;
    for (const file of alternatives) {
      const got = await fetchOne(ref, file, repoDir, opts);
      if (got === null) continue;
      if (commit && got !== commit) throw new UserError(`${ref.repoId}: revision ${ref.revision} changed during download; run again`);
      commit = got;
      found = true;
      break;
    }
    if (!found) throw new UserError(`${ref.repoId}@${ref.revision} has no ${alternatives.join(' or ')}`);
  }
  if (commit !== ref.revision) {
    mkdirSync(path.join(repoDir, 'refs'), { recursive: true });
    atomicWrite(path.join(repoDir, 'refs', ref.revision), commit!);
  }
  return path.join(repoDir, 'snapshots', commit!);
}

function cachedSnapshot(ref: HubRef, files: string[][], repoDir: string): string {
  const refFile = path.join(repoDir, 'refs', ref.revision);
  const commit = existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : ref.revision;
  const snapshot = path.join(repoDir, 'snapshots', commit);
  for (const alternatives of files) {
    if (!alternatives.some((f) => existsSync(path.join(snapshot, f)))) {
      throw new UserError(
        `HF_HUB_OFFLINE is set and ${ref.repoId}@${ref.revision} is not in the cache (${repoDir}: no ${alternatives[0]})`,
      );
    }
  }
  return snapshot;
}


/** Download one file unless its blob is cached; returns the commit it belongs to, or null when the repo lacks it. */
async function fetchOne(ref: HubRef, file: string, repoDir: string, opts: HubOptions): Promise<string | null> {
  const hubHost = new URL(opts.endpoint).host;
  let url = `${opts.endpoint}/${ref.repoId}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
  let commit: string | null = null;
  let etag: string | null = null;
  for (let hop = 0; hop < 6; hop++) {
    const headers: Record<string, string> = {};
    // the token goes to the hub only, never to the storage hosts it redirects to
    if (opts.token && new URL(url).host === hubHost) headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'manual' });
    } catch (e) {
      throw new UserError(`cannot reach ${new URL(url).origin} for ${ref.repoId}: ${(e as Error).cause ?? (e as Error).message} (set HF_HUB_OFFLINE=1 to use the cache only)`);
    }
    commit ??= res.headers.get('x-repo-commit');
    etag ??= cleanEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      // a redirect to storage names the blob (X-Linked-Etag): a cached blob needs no download
      if (commit && etag && existsSync(path.join(repoDir, 'blobs', etag))) {
        linkSnapshot(repoDir, commit, file, etag);
        return commit;
      }
      url = new URL(res.headers.get('location')!, url).toString();
      continue;
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UserError(`${ref.repoId}: access denied (HTTP ${res.status}); set HF_TOKEN for gated or private models`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new UserError(`${url}: HTTP ${res.status}`);
    }
    commit ??= ref.revision;
    etag ??= createHash('sha256').update(url).digest('hex');
    const blob = path.join(repoDir, 'blobs', etag);
    if (existsSync(blob)) await res.body.cancel();
    else await downloadBlob(res, blob, file, etag, opts);
    linkSnapshot(repoDir, commit, file, etag);
    return commit;
  }
  throw new UserError(`${url}: too many redirects`);
}

function cleanEtag(v: string | null): string | null {
  if (!v) return null;
  const s = v.replace(/^W\//, '').replace(/"/g, '').trim();
  return /^[\w.-]+$/.test(s) ? s : null;
}

/** Stream into blobs/<etag>.incomplete, verify (LFS etags are sha256), then rename: no truncated blob is ever in place. */
async function downloadBlob(res: Response, blob: string, file: string, etag: string, opts: HubOptions): Promise<void> {
  mkdirSync(path.dirname(blob), { recursive: true });
  const tmp = `${blob}.incomplete`;
  const total = Number(res.headers.get('content-length')) || undefined;
  const hash = createHash('sha256');
  let done = 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    done += chunk.length;
    opts.onProgress?.(file, done, total);
  });
  try {
    await pipeline(body, createWriteStream(tmp));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UserError(`download of ${file} interrupted: ${(e as Error).message}`);
  }
  if (total !== undefined && done !== total) {
    rmSync(tmp, { force: true });
    throw new UserError(`download of ${file} truncated (${done} of ${total} bytes)`);
  }
  const digest = hash.digest('hex');
  if (/^[0-9a-f]{64}$/.test(etag) && digest !== etag) {
    rmSync(tmp, { force: true });
    throw new UserError(`download of ${file} is corrupt: sha256 ${digest}, expected ${etag}`);
  }
  renameSync(tmp, blob);
}

function linkSnapshot(repoDir: string, commit: string, file: string, etag: string): void {
  const link = path.join(repoDir, 'snapshots', commit, file);
  mkdirSync(path.dirname(link), { recursive: true });
  const target = path.relative(path.dirname(link), path.join(repoDir, 'blobs', etag));
  const tmp = `${link}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
