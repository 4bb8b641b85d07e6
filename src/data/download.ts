import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as tar from 'tar';
import { DatasetUnavailable, TransferFailed, UserError } from '../errors.js';
import { InactivityTimer } from '../util/inactivity.js';
import { pidAlive } from '../util/process.js';
import { ensureDir } from '../util/fs.js';

export interface DownloadOptions {
  /** expected sha256 (hex); several = any of them */
  sha256?: string | string[];
  /** expected md5 (hex), for files whose publisher gives md5 sums; several = any of them */
  md5?: string | string[];
  onProgress?: (done: number, total?: number) => void;
  /** redirects followed at most (default 5) */
  maxRedirects?: number;
  /** how long to wait for an answer or for the next bytes before giving up (default 60 s) */
  timeoutMs?: number;
}

/** A publisher's server (or CLIP_BENCH_DATASET_MIRROR) that sends nothing for this long has stalled. */
export const DOWNLOAD_INACTIVITY_MS = 60_000;

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map((s) => s.toLowerCase());

async function hashFile(file: string, algos: string[]): Promise<crypto.Hash[]> {
  const hs = algos.map((a) => crypto.createHash(a));
  if (!fs.existsSync(file)) return hs;
  for await (const chunk of fs.createReadStream(file)) for (const h of hs) h.update(chunk as Buffer);
  return hs;
}

/** GET with manual redirects (so a Range header survives them and the count is ours to limit). */
async function fetchFollow(url: string, headers: Record<string, string>, maxRedirects: number, timer: InactivityTimer): Promise<{ res: Response; finalUrl: string }> {
  let current = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      timer.touch();
      res = await fetch(current, { headers, redirect: 'manual', signal: timer.signal });
    } catch (e) {
      if (timer.fired) throw new TransferFailed(`download of ${url} failed: no answer from ${new URL(current).origin} in ${timer.seconds}`);
      const cause = (e as { cause?: { message?: string; code?: string } }).cause;
      throw new TransferFailed(`download of ${url} failed: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      const loc = res.headers.get('location');
      await res.body?.cancel();
      if (!loc) throw new UserError(`download of ${url}: HTTP ${res.status} redirect without a Location header`);
      if (hop >= maxRedirects) throw new UserError(`download of ${url}: more than ${maxRedirects} redirects`);
      current = new URL(loc, current).toString();
      continue;
    }
    return { res, finalUrl: current };
  }
}

/**
 * Download `url` to `dest`: streams into `dest.part`, resuming an existing .part with a Range
 * request when the server answers 206 (starting over when it answers 200), verifies the sha256
 * and/or md5 given (a mismatch deletes the part and throws a UserError naming both hashes), then
 * renames the part into place. Follows up to 5 redirects; any other non-2xx is a UserError. A server that sends
 * nothing for `timeoutMs` (60 s) fails it (TransferFailed), as does a dropped connection.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const part = dest + '.part';
  ensureDir(path.dirname(dest));
  const wantSha = asList(opts.sha256);
  const wantMd5 = asList(opts.md5);
  const algos = ['sha256', ...(wantMd5.length ? ['md5'] : [])];
  const maxRedirects = opts.maxRedirects ?? 5;

  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const timer = new InactivityTimer(opts.timeoutMs ?? DOWNLOAD_INACTIVITY_MS);
  try {
    let { res } = await fetchFollow(url, have > 0 ? { range: `bytes=${have}-` } : {}, maxRedirects, timer);
    if (res.status === 416 && have > 0) {
      // the part is as long as (or longer than) the file: start over rather than guess
      await res.body?.cancel();
      have = 0;
      ({ res } = await fetchFollow(url, {}, maxRedirects, timer));
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel();
      const message = `download of ${url} failed: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`;
      // the server does not have it (a mirror without this dataset: not available, as a hub 404) against one that failed to send it
      throw res.status === 404 || res.status === 410 ? new DatasetUnavailable(message) : new TransferFailed(message);
    }
    let append = false;
    if (res.status === 206 && have > 0) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === have) append = true;
      else {
        // a range we did not ask for: start over
        await res.body?.cancel();
        have = 0;
        ({ res } = await fetchFollow(url, {}, maxRedirects, timer));
        if (res.status < 200 || res.status > 299) {
          await res.body?.cancel();
          throw new TransferFailed(`download of ${url} failed: HTTP ${res.status}`);
        }
      }
    }
    if (!append) have = 0;
    const len = res.headers.get('content-length');
    const total = len !== null && /^\d+$/.test(len) ? have + Number(len) : undefined;
    // hashing a long part asks the server for nothing: the inactivity clock waits
    timer.stop();
    const hashes = append ? await hashFile(part, algos) : algos.map((a) => crypto.createHash(a));
    timer.touch();
    const out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
    let done = have;
    opts.onProgress?.(done, total);
    try {
      if (res.body) {
        const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
        for await (const chunk of body) {
          timer.touch();
          const b = chunk as Buffer;
          for (const h of hashes) h.update(b);
          if (!out.write(b)) await new Promise<void>((r) => out.once('drain', r));
          done += b.length;
          opts.onProgress?.(done, total);
        }
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (e) {
      out.destroy();
      if (e instanceof UserError) throw e;
      const why = timer.fired ? `no bytes for ${timer.seconds}` : (e as Error).message;
      throw new TransferFailed(`download of ${url} interrupted after ${done} bytes (${why}); run again to resume`);
    }
    if (total !== undefined && done !== total) {
      throw new TransferFailed(`download of ${url} ended early (${done} of ${total} bytes); run again to resume`);
    }
    const gotSha = hashes[0]!.digest('hex');
    const gotMd5 = wantMd5.length ? hashes[1]!.digest('hex') : undefined;
    if (wantSha.length && !wantSha.includes(gotSha)) {
      fs.rmSync(part, { force: true });
      throw new UserError(`download of ${url}: sha256 mismatch (expected ${wantSha.join(' or ')}, got ${gotSha})`);
    }
    if (wantMd5.length && !wantMd5.includes(gotMd5!)) {
      fs.rmSync(part, { force: true });
      throw new UserError(`download of ${url}: md5 mismatch (expected ${wantMd5.join(' or ')}, got ${gotMd5})`);
    }
    fs.renameSync(part, dest);
  } finally {
    timer.stop();
  }
}

/** True when `target`, resolved against `base`, stays inside `base`. */
function inside(base: string, target: string): boolean {
  const rel = path.relative(base, target);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

// ours counts as alive: the finally block of that extraction removes it
const processAlive = (pid: number): boolean => pid === process.pid || pidAlive(pid);

export interface ExtractOptions {
  /** extract only entries for which this returns true (path as stored in the archive) */
  filter?: (entryPath: string) => boolean;
}

/**
 * Extract a .tar.gz into destDir. Refuses (UserError, nothing extracted into destDir) archives
 * with an entry that would land outside destDir: an absolute path, a `..` component, or a
 * symbolic/hard link whose target leaves destDir. Extraction goes into a temporary folder
 * inside destDir; each top-level entry is renamed into place only after the whole archive was
 * read, so a half-finished extraction is never mistaken for a complete one (an interrupted run
 * leaves only a `.extract-<pid>-*` folder, removed by a later run once that process is gone).
 */
export async function extractTarGz(archive: string, destDir: string, opts: ExtractOptions = {}): Promise<void> {
  if (!fs.existsSync(archive)) throw new UserError(`${archive}: no such archive`);
  ensureDir(destDir);
  // leftovers of interrupted extractions (their process is gone); another live run's folder is left alone
  for (const e of fs.readdirSync(destDir)) {
    const m = /^\.extract-(\d+)-/.exec(e);
    if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(destDir, e), { recursive: true, force: true });
  }
  const tmp = fs.mkdtempSync(path.join(destDir, `.extract-${process.pid}-`));
  const bad: string[] = [];
  try {
    try {
      await tar.x({
        file: archive,
        cwd: tmp,
        strict: true,
        preservePaths: false,
        preserveOwner: false,
        filter: (p, entry) => {
          const stat = entry as unknown as { type?: string; linkpath?: string };
          const raw = p.replace(/\\/g, '/');
          if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.split('/').includes('..')) {
            bad.push(p);
            return false;
          }
          const where = path.resolve(tmp, raw);
          if (!inside(tmp, where)) {
            bad.push(p);
            return false;
          }
          if ((stat.type === 'SymbolicLink' || stat.type === 'Link') && stat.linkpath !== undefined) {
            const lp = stat.linkpath.replace(/\\/g, '/');
            const target = stat.type === 'SymbolicLink' ? path.resolve(path.dirname(where), lp) : path.resolve(tmp, lp);
            if (path.isAbsolute(lp) || !inside(tmp, target)) {
              bad.push(`${p} -> ${stat.linkpath}`);
              return false;
            }
          }
          return opts.filter ? opts.filter(p) : true;
        },
      });
    } catch (e) {
      throw new UserError(`${archive}: not a readable .tar.gz (${(e as Error).message})`);
    }
    if (bad.length) {
      throw new UserError(
        `${archive}: refusing to extract: entr${bad.length > 1 ? 'ies' : 'y'} outside the target folder: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', ...' : ''}`,
      );
    }
    for (const e of fs.readdirSync(tmp)) {
      const to = path.join(destDir, e);
      fs.rmSync(to, { recursive: true, force: true });
      fs.renameSync(path.join(tmp, e), to);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
