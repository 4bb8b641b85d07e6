import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hubDownloadTimeoutMs, hubEnv } from '../defaults.js';
import { TransferFailed, UserError } from '../errors.js';
import { InactivityTimer } from '../util/inactivity.js';
import { atomicWriteFileSync, ensureDir, tmpSuffix, userFsError, writeAll } from '../util/fs.js';
import { byteProgress } from '../util/progress.js';
import { hashPrefix, lockPartial, partialFor, removeOtherPartials, strongEtag, WaitedForOther, type Partial } from './partial.js';

/** Where repositories are fetched from and kept: the Hugging Face hub's conventions, so its cache is shared with Python. */
export interface HubOptions {
  endpoint: string;
  cacheDir: string;
  offline: boolean;
  token?: string;
  /** why `offline` is set, for messages (default: HF_HUB_OFFLINE) */
  offlineReason?: string;
  /** bytes of `file` downloaded so far (-1: its download failed); `resumedAt`: where a resumed download started */
  onProgress?: (file: string, done: number, total: number | undefined, resumedAt?: number) => void;
  /** a line for the user (waiting for another process's download of the same file, a retry) */
  log?: (line: string) => void;
  /** attempts per file in one run, resuming after a dropped connection (default 4) */
  attempts?: number;
  /** how long an attempt waits for an answer or for its next bytes (default: $HF_HUB_DOWNLOAD_TIMEOUT, else 10 s) */
  timeoutMs?: number;
}

export const offlineReason = (o: HubOptions): string => o.offlineReason ?? 'HF_HUB_OFFLINE is set';

export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  return hubEnv(env);
}

/** The same, with download progress in bytes on stderr (a bar on a terminal, lines otherwise) and its notices. */
export function hubOptionsWithProgress(env: NodeJS.ProcessEnv = process.env): HubOptions {
  return { ...hubOptionsFromEnv(env), onProgress: byteProgress(), log: (line) => process.stderr.write(`${line}\n`) };
}

export type RepoType = 'model' | 'dataset';

/**
 * A file the source does not have: not in the repository, or offline (HF_HUB_OFFLINE or no downloads) and not cached.
 * A transfer that fails (unreachable, silent, interrupted, an HTTP error) is a TransferFailed instead.
 */
export class HubUnavailable extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'HubUnavailable';
  }
}

export interface HubRef {
  repoId: string;
  revision: string;
  /** default 'model' */
  type?: RepoType;
}

/** `owner/name[@revision]`, or null when the string is not of that form. */
export function parseHubId(spec: string, type: RepoType = 'model'): HubRef | null {
  const m = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(spec);
  if (!m) return null;
  return type === 'model' ? { repoId: m[1], revision: m[2] ?? 'main' } : { repoId: m[1], revision: m[2] ?? 'main', type };
}

/** `<cache>/models--owner--name` or `<cache>/datasets--owner--name`, as huggingface_hub names them. */
export function repoCacheDir(cacheDir: string, repoId: string, type: RepoType = 'model'): string {
  return path.join(cacheDir, `${type}s--${repoId.replace('/', '--')}`);
}

/** `${endpoint}/<repo>/resolve/...` for models, `${endpoint}/datasets/<repo>/resolve/...` for datasets. */
export function resolveUrl(endpoint: string, ref: HubRef, file: string): string {
  const prefix = ref.type === 'dataset' ? 'datasets/' : '';
  return `${endpoint}/${prefix}${ref.repoId}/resolve/${encodeURIComponent(ref.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

const repoLabel = (ref: HubRef): string => `${ref.type === 'dataset' ? 'dataset ' : ''}${ref.repoId}`;

/**
 * What to do when the hub cannot be reached: use the cache (HF_HUB_OFFLINE=1) only when it holds a snapshot of the
 * repository, else fetch it where the network reaches the hub or a mirror (HF_ENDPOINT).
 */
export function unreachableAdvice(cacheDir: string, ref: HubRef): string {
  const snapshots = path.join(repoCacheDir(cacheDir, ref.repoId, ref.type), 'snapshots');
  let cached = false;
  try {
    cached = readdirSync(snapshots).length > 0;
  } catch {
    // no snapshot folder: nothing cached
  }
  return cached
    ? 'set HF_HUB_OFFLINE=1 to use the copy in the Hugging Face cache'
    : `the Hugging Face cache (${cacheDir}) has no copy: run once where the network reaches the hub, or set HF_ENDPOINT to a mirror`;
}

/**
 * One revision of one hub repository, file by file: each `file()` makes one file available in the snapshot folder
 * (downloading its blob unless cached) and checks that every file comes from the same commit; `finish()` records
 * refs/<revision>. Layout as huggingface_hub writes it: blobs/<etag or sha256>,
 * snapshots/<commit>/<file> -> ../../blobs/<...>, refs/<revision>, .no_exist/<commit>/<file> for files the repo lacks.
 */
export class HubRepo {
  readonly dir: string;
  private commit: string | null = null;
  constructor(
    readonly ref: HubRef,
    readonly opts: HubOptions,
  ) {
    this.dir = repoCacheDir(opts.cacheDir, ref.repoId, ref.type);
  }

  /** The snapshot folder of this revision (as resolved so far; offline: from refs/<revision>). */
  get snapshot(): string {
    return path.join(this.dir, 'snapshots', this.commit ?? this.cachedCommit());
  }

  private cachedCommit(): string {
    const refFile = path.join(this.dir, 'refs', this.ref.revision);
    return existsSync(refFile) ? readFileSync(refFile, 'utf8').trim() : this.ref.revision;
  }

  /** The local path of `file`, or null when the repository has no such file (offline: when it is not cached). */
  async file(file: string): Promise<string | null> {
    if (this.opts.offline) {
      const p = path.join(this.snapshot, file);
      return existsSync(p) ? p : null;
    }
    const got = await fetchOne(this.ref, file, this.dir, this.opts);
    if (got.commit && this.commit && got.commit !== this.commit) {
      throw new UserError(`${repoLabel(this.ref)}: revision ${this.ref.revision} changed during download; run again`);
    }
    this.commit ??= got.commit;
    if (!got.found) {
      if (this.commit) atomicWriteFileSync(path.join(this.dir, '.no_exist', this.commit, file), '');
      return null;
    }
    return path.join(this.dir, 'snapshots', this.commit!, file);
  }

  /** `file()`, where a missing file is an error (offline: naming the cache it is not in). */
  async require(file: string, alternatives: string[] = []): Promise<string> {
    for (const f of [file, ...alternatives]) {
      const p = await this.file(f);
      if (p) return p;
    }
    const names = [file, ...alternatives].join(' or ');
    if (this.opts.offline) throw new HubUnavailable(`${offlineReason(this.opts)} and ${repoLabel(this.ref)}@${this.ref.revision} is not in the cache (${this.dir}: no ${file})`);
    // the repository (or this file of it) is not there: nothing to fetch, as when offline
    throw new HubUnavailable(`${repoLabel(this.ref)}@${this.ref.revision} has no ${names}`);
  }

  /**
   * Whether the server's copy of a cached `file` is still the one in the cache: by the hub's sha256 or git id when it
   * names one (the blob's name), else by size and Last-Modified (what a static mirror gives; the blob's mtime was set
   * from it). 'unknown' when the server cannot be asked (offline, unreachable). Nothing is downloaded.
   */
  async compareWithServer(file: string): Promise<{ state: 'same' | 'changed' | 'unknown'; detail: string }> {
    if (this.opts.offline) return { state: 'unknown', detail: offlineReason(this.opts) };
    const link = path.join(this.snapshot, file);
    let blob: string;
    let st: ReturnType<typeof statSync>;
    try {
      blob = path.basename(realpathSync(link));
      st = statSync(link);
    } catch {
      return { state: 'unknown', detail: `${link} is not in the cache` };
    }
    let url = resolveUrl(this.opts.endpoint, this.ref, file);
    const timer = new InactivityTimer(this.opts.timeoutMs ?? hubDownloadTimeoutMs());
    let claim: EtagClaim | null = null;
    try {
      for (let hop = 0; hop < 6; hop++) {
        const headers: Record<string, string> = {};
        if (this.opts.token && new URL(url).host === new URL(this.opts.endpoint).host) headers.authorization = `Bearer ${this.opts.token}`;
        timer.touch();
        const res = await fetch(url, { headers, redirect: 'manual', signal: timer.signal });
        await res.body?.cancel();
        claim ??= etagClaim(res.headers.get('x-linked-etag'), res.headers.get('etag'));
        if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
          url = new URL(res.headers.get('location')!, url).toString();
          continue;
        }
        if (res.status === 404) return { state: 'changed', detail: 'the server no longer has it' };
        if (res.status !== 200) return { state: 'unknown', detail: `HTTP ${res.status}` };
        if (claim && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(blob) && (claim.kind === 'sha256') === (blob.length === 64)) {
          return claim.value === blob ? { state: 'same', detail: `${claim.kind} ${blob}` } : { state: 'changed', detail: `${claim.kind} ${claim.value}, cached ${blob}` };
        }
        const size = Number(res.headers.get('content-length'));
        const modified = Date.parse(res.headers.get('last-modified') ?? '');
        if (Number.isFinite(size) && size !== st.size) return { state: 'changed', detail: `${size} bytes, cached ${st.size}` };
        if (Number.isFinite(modified) && Math.abs(modified - st.mtimeMs) >= 1000) return { state: 'changed', detail: `modified ${new Date(modified).toISOString()}, cached ${new Date(st.mtimeMs).toISOString()}` };
        return { state: 'same', detail: `${st.size} bytes` };
      }
      return { state: 'unknown', detail: 'too many redirects' };
    } catch (e) {
      return { state: 'unknown', detail: timer.fired ? `no answer in ${timer.seconds}` : String((e as Error).cause ?? (e as Error).message) };
    } finally {
      timer.stop();
    }
  }

  /** Record which commit the revision named (nothing to record when it was a commit itself, or nothing was fetched). */
  finish(): string {
    if (!this.opts.offline && this.commit && this.commit !== this.ref.revision) {
      atomicWriteFileSync(path.join(this.dir, 'refs', this.ref.revision), this.commit);
    }
    return this.snapshot;
  }
}

/**
 * Make `files` of a hub repository available locally and return the snapshot directory holding them.
 * Each entry of `files` is a list of alternatives: the first one the repository has is taken.
 */
export async function fetchHubFiles(ref: HubRef, files: string[][], opts: HubOptions): Promise<string> {
  const repo = new HubRepo(ref, opts);
  for (const [first, ...rest] of files) await repo.require(first, rest);
  return repo.finish();
}

/**
 * What a response says about the blob's name. The hub's LFS files carry their sha256 (X-Linked-Etag, or a strong
 * 64-hex ETag), verified after download; git files carry the git blob sha1 (40 hex), checked too. Anything else
 * (no ETag: a plain static mirror; a weak or server-specific one) names nothing: the blob is then named by the
 * sha256 of what was downloaded.
 */
interface EtagClaim {
  value: string;
  kind: 'sha256' | 'git-sha1';
  /** a mismatch is corruption (the hub's own LFS hash), not just an ETag of another scheme */
  strict: boolean;
}

export function etagClaim(linked: string | null, etag: string | null): EtagClaim | null {
  const clean = (v: string): { weak: boolean; s: string } => ({ weak: /^W\//.test(v.trim()), s: v.trim().replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() });
  for (const [raw, fromLinked] of [[linked, true], [etag, false]] as const) {
    if (!raw) continue;
    const { weak, s } = clean(raw);
    if (/^[0-9a-f]{64}$/.test(s)) return { value: s, kind: 'sha256', strict: fromLinked || !weak };
    if (/^[0-9a-f]{40}$/.test(s)) return { value: s, kind: 'git-sha1', strict: false };
  }
  return null;
}

/** Attempts per file in one run: a dropped or stalled connection is retried (resuming with Range) this many times in all. */
const ATTEMPTS = 4;
const RETRY_MS = 250;

/**
 * An attempt cut short (connection dropped, body truncated, no answer or no bytes for the inactivity timeout): its
 * partial file, if any, is kept and the next attempt resumes it.
 */
class DownloadInterrupted extends UserError {
  constructor(
    message: string,
    readonly partial: string | null,
  ) {
    super(message);
  }
}

const mb = (b: number): string => (b / 1e6).toFixed(2);

/**
 * Download one file unless its blob is cached; returns the commit it belongs to and whether the repo has it. A
 * dropped or stalled connection is retried, continuing the partial file; after `attempts` it is a TransferFailed
 * saying the partial is kept for the next run.
 */
async function fetchOne(ref: HubRef, file: string, repoDir: string, opts: HubOptions): Promise<Fetched> {
  const attempts = opts.attempts ?? ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchAttempt(new Download(ref, file, repoDir, opts));
    } catch (e) {
      if (e instanceof WaitedForOther) {
        attempt--; // another process had it: look again (it is likely in the cache now)
        continue;
      }
      if (!(e instanceof DownloadInterrupted)) throw e;
      if (attempt >= attempts) {
        const kept = e.partial ? `; run again to resume from there (kept in ${e.partial})` : '; run again';
        throw new TransferFailed(`${e.message}${attempts > 1 ? ` after ${attempts} attempts` : ''}${kept}`);
      }
      opts.log?.(`${e.message}; retrying (attempt ${attempt + 1} of ${attempts})`);
      await sleep(RETRY_MS * 2 ** (attempt - 1));
    }
  }
}

/** `bytes N-M/T` of a 206 response: its first byte and the whole file's size. */
function contentRange(v: string | null): { start: number; total: number | undefined } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v?.trim() ?? '');
  return m ? { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) } : null;
}

interface Fetched {
  commit: string | null;
  found: boolean;
}

/** One attempt at one file: where it is asked for, what the responses said so far, the partial it writes (locked). */
class Download {
  readonly first: string;
  readonly blobs: string;
  readonly shown: string;
  url: string;
  commit: string | null = null;
  claim: EtagClaim | null = null;
  /** a resumed request the server answered oddly (416, a changed file) is asked again once, from the start */
  fromStart = false;
  private held: { partial: Partial; lock: { release(): Promise<void> } } | null = null;

  constructor(
    readonly ref: HubRef,
    readonly file: string,
    readonly repoDir: string,
    readonly opts: HubOptions,
  ) {
    this.first = resolveUrl(opts.endpoint, ref, file);
    this.url = this.first;
    this.blobs = path.join(repoDir, 'blobs');
    this.shown = `${ref.repoId} ${file}`;
  }

  /** The partial the next request writes, locked before its size is read (by the hub's sha256 once it has named it). */
  async partial(): Promise<Partial> {
    const partial = partialFor(this.blobs, this.file, this.first, this.claim?.strict && this.claim.kind === 'sha256' ? this.claim.value : null);
    if (this.held?.partial.key !== partial.key) {
      await this.release();
      ensureDir(this.blobs);
      this.held = { partial, lock: await lockPartial(partial, (who) => this.opts.log?.(`waiting for ${who}, which is downloading ${this.shown}`)) };
    }
    return partial;
  }

  async release(): Promise<void> {
    const h = this.held;
    this.held = null;
    await h?.lock.release();
  }

  cachedBlob(): boolean {
    return this.claim !== null && existsSync(path.join(this.blobs, this.claim.value));
  }

  found(blob: string): Fetched {
    linkSnapshot(this.repoDir, this.commit!, this.file, blob);
    return { commit: this.commit, found: true };
  }
}

async function fetchAttempt(d: Download): Promise<Fetched> {
  try {
    for (let hop = 0; hop < 6; hop++) {
      const partial = await d.partial();
      const resumeAt = d.fromStart ? (partial.discard(), 0) : partial.resumableBytes();
      const timer = new InactivityTimer(d.opts.timeoutMs ?? hubDownloadTimeoutMs());
      const res = await request(d, partial, resumeAt, timer);
      d.commit ??= res.headers.get('x-repo-commit');
      d.claim ??= etagClaim(res.headers.get('x-linked-etag'), res.headers.get('etag'));
      let next: ReturnType<typeof answer>;
      try {
        next = answer(d, res, partial, resumeAt);
      } catch (e) {
        timer.stop();
        await res.body?.cancel();
        throw e;
      }
      if (next === 'redirect' || next === 'again') {
        timer.stop();
        await res.body?.cancel();
        // a redirect to storage names the blob: a cached blob needs no download
        if (next === 'redirect' && d.commit && d.cachedBlob()) return d.found(d.claim!.value);
        if (next === 'again') hop--;
        continue;
      }
      if (next !== 'body') {
        timer.stop();
        await res.body?.cancel();
        return next;
      }
      try {
        return await receive(d, res, partial, resumeAt, timer);
      } finally {
        timer.stop();
      }
    }
    throw new TransferFailed(`${d.url}: too many redirects`);
  } finally {
    await d.release();
  }
}

/** GET the current URL (from `resumeAt` with Range and If-Range), waiting at most the inactivity timeout for the answer. */
async function request(d: Download, partial: Partial, resumeAt: number, timer: InactivityTimer): Promise<Response> {
  const headers: Record<string, string> = {};
  // the token goes to the hub only, never to the storage hosts it redirects to
  if (d.opts.token && new URL(d.url).host === new URL(d.opts.endpoint).host) headers.authorization = `Bearer ${d.opts.token}`;
  if (resumeAt > 0) {
    headers.range = `bytes=${resumeAt}-`;
    const v = partial.ifRange();
    if (v) headers['if-range'] = v;
  }
  const origin = new URL(d.url).origin;
  timer.touch(`an answer from ${origin} for ${d.file}`);
  try {
    return await fetch(d.url, { headers, redirect: 'manual', signal: timer.signal });
  } catch (e) {
    timer.stop();
    if (timer.fired) throw new DownloadInterrupted(`no answer from ${origin} for ${d.file} in ${timer.seconds} (HF_HUB_DOWNLOAD_TIMEOUT)`, resumeAt > 0 ? partial.path : null);
    throw new TransferFailed(`cannot reach ${origin} for ${repoLabel(d.ref)}: ${(e as Error).cause ?? (e as Error).message} (${unreachableAdvice(d.opts.cacheDir, d.ref)})`);
  }
}

/**
 * What a response means: a redirect to follow, a resumed request to ask again from the start (the partial does not
 * fit what the server has now: never splice), a body to receive, or the end of this file (not in the repository).
 * Errors: access denied, any other status.
 */
function answer(d: Download, res: Response, partial: Partial, resumeAt: number): 'redirect' | 'again' | 'body' | Fetched {
  if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
    d.url = new URL(res.headers.get('location')!, d.url).toString();
    return 'redirect';
  }
  if (res.status === 404) return { commit: d.commit, found: false };
  if (res.status === 401 || res.status === 403) {
    throw new UserError(`${repoLabel(d.ref)}: access denied (HTTP ${res.status}); set HF_TOKEN for gated or private repositories`);
  }
  const range = res.status === 206 ? contentRange(res.headers.get('content-range')) : null;
  if (resumeAt > 0 && !d.fromStart && (res.status === 416 || (res.status === 206 && (range?.start !== resumeAt || !partial.sameValidator(res.headers))))) {
    d.fromStart = true;
    return 'again';
  }
  if ((res.status !== 200 && range?.start !== resumeAt) || !res.body) throw new TransferFailed(`${d.url}: HTTP ${res.status}`);
  return 'body';
}

/** Take a 200 or 206 body: from the cache when it names a blob already there, else into the partial and then the blob. */
async function receive(d: Download, res: Response, partial: Partial, resumeAt: number, timer: InactivityTimer): Promise<Fetched> {
  const range = res.status === 206 ? contentRange(res.headers.get('content-range')) : null;
  d.commit ??= d.ref.revision;
  const start = range ? resumeAt : 0;
  const total = range ? range.total : Number(res.headers.get('content-length')) || undefined;
  const lastModified = Date.parse(res.headers.get('last-modified') ?? '');
  if (d.cachedBlob()) {
    await res.body!.cancel();
    partial.discard();
    return d.found(d.claim!.value);
  }
  if (!range && !d.claim?.strict && reusableUnvalidated(d.repoDir, d.commit, d.file, total, lastModified)) {
    await res.body!.cancel();
    return { commit: d.commit, found: true };
  }
  if (!range) {
    // a full body (also the answer of a server that ignores Range, or of If-Range to a changed file)
    partial.discard();
    partial.writeMeta({ file: d.file, url: d.first, etag: strongEtag(res.headers.get('etag')), lastModified: res.headers.get('last-modified') ?? undefined });
  }
  const blobName = await downloadBlob(res.body!, partial, start, { file: d.file, shown: d.shown, claim: d.claim, total }, d.opts, timer);
  if (blobName !== d.claim?.value && Number.isFinite(lastModified)) {
    // what a later run compares with, since a server without ETag gives nothing else to compare
    const t = new Date(lastModified);
    utimesSync(path.join(d.blobs, blobName), t, t);
  }
  const got = d.found(blobName);
  await removeOtherPartials(d.blobs, d.file, partial);
  return got;
}

/**
 * A server without ETag (a static mirror) gives only size and Last-Modified: a file already in the snapshot whose
 * blob has that size and that mtime (set from Last-Modified when it was downloaded) is taken as unchanged.
 */
function reusableUnvalidated(repoDir: string, commit: string, file: string, total: number | undefined, lastModified: number): boolean {
  if (total === undefined || !Number.isFinite(lastModified)) return false;
  try {
    const st = statSync(path.join(repoDir, 'snapshots', commit, file));
    return st.size === total && Math.abs(st.mtimeMs - lastModified) < 1000;
  } catch {
    return false;
  }
}

/** git's object id of a blob: sha1("blob <size>\0" + content). */
function gitBlobHasher(size: number | undefined): Hash | null {
  if (size === undefined) return null;
  return createHash('sha1').update(`blob ${size}\0`);
}

/**
 * Stream into the partial file (appending from `start` when resuming: its first `start` bytes are hashed first),
 * verify, then rename to blobs/<name>: no truncated blob is ever in place. The blob is named by the ETag when the
 * content matches it, else by the content's sha256; a mismatch with the hub's LFS sha256 is an error (corrupt
 * download) and the partial is deleted. A dropped connection keeps the partial (DownloadInterrupted); a local
 * write error (a full disk) deletes it. Returns the blob's name.
 */
async function downloadBlob(
  body: ReadableStream<Uint8Array>,
  partial: Partial,
  start: number,
  what: { file: string; shown: string; claim: EtagClaim | null; total: number | undefined },
  opts: HubOptions,
  timer: InactivityTimer,
): Promise<string> {
  const { file, shown, claim, total } = what;
  const sha256 = createHash('sha256');
  const git = claim?.kind === 'git-sha1' ? gitBlobHasher(total) : null;
  let done = start;
  // said before the prefix is hashed (seconds for a large one), while the inactivity clock waits: no byte is asked for
  opts.onProgress?.(shown, done, total, start);
  timer.stop();
  if (start > 0) await hashPrefix(partial.path, start, [sha256, git]);
  const fh = await fsp.open(partial.path, start > 0 ? 'a' : 'w');
  let failure: unknown = null;
  let local = false;
  timer.touch(`the next bytes of ${file}`);
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      timer.touch();
      try {
        await writeAll(fh, chunk);
      } catch (e) {
        local = true;
        throw e;
      }
      sha256.update(chunk);
      git?.update(chunk);
      done += chunk.length;
      opts.onProgress?.(shown, done, total, start);
    }
  } catch (e) {
    failure = e;
  } finally {
    await fh.close();
  }
  if (failure || (total !== undefined && done !== total)) {
    opts.onProgress?.(shown, -1, total);
    if (local) {
      partial.discard();
      throw userFsError(failure, partial.path);
    }
    if (total !== undefined && done > total) {
      partial.discard();
      throw new TransferFailed(`download of ${file}: the server sent ${done} bytes, more than the ${total} it announced`);
    }
    const cause = timer.fired
      ? `no bytes for ${timer.seconds} (HF_HUB_DOWNLOAD_TIMEOUT)`
      : failure
        ? (((failure as Error).cause as Error | undefined)?.message ?? (failure as Error).message)
        : 'connection closed early';
    throw new DownloadInterrupted(`download of ${file} interrupted at ${mb(done)}${total ? ` of ${mb(total)}` : ''} MB (${cause})`, partial.path);
  }
  const digest = sha256.digest('hex');
  let name = digest;
  if (claim?.kind === 'sha256') {
    if (digest === claim.value) name = claim.value;
    else if (claim.strict) {
      partial.discard();
      const resumed = start > 0 ? ` (resumed at ${start} bytes; the partial download is deleted)` : '';
      throw new TransferFailed(`download of ${file} is corrupt: sha256 ${digest}, expected ${claim.value}${resumed}`);
    }
  } else if (claim?.kind === 'git-sha1' && git && git.digest('hex') === claim.value) {
    name = claim.value; // the name huggingface_hub gives git files: the caches stay shared
  }
  renameSync(partial.path, path.join(partial.blobs, name));
  rmSync(partial.metaPath, { force: true });
  return name;
}

function linkSnapshot(repoDir: string, commit: string, file: string, blob: string): void {
  const link = path.join(repoDir, 'snapshots', commit, file);
  ensureDir(path.dirname(link));
  const target = path.relative(path.dirname(link), path.join(repoDir, 'blobs', blob));
  const tmp = link + tmpSuffix();
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}
