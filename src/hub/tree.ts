import { hubDownloadTimeoutMs } from '../defaults.js';
import { TransferFailed, UserError } from '../errors.js';
import { HubUnavailable, unreachableAdvice, type HubOptions, type HubRef } from './hub.js';

/** The endpoint answers 404 to the listing: no such repository, revision or folder, or a static mirror without the API. */
export class NoHubListing extends HubUnavailable {
  constructor(message: string) {
    super(message);
    this.name = 'NoHubListing';
  }
}

/** One file of a repository as the hub's tree API lists it. */
export interface HubTreeFile {
  path: string;
  size: number;
  /** the sha256 of an LFS file's content (absent for files kept in git) */
  sha256?: string;
}

/** `rel="next"` of a Link header (the hub pages long listings). */
function nextLink(link: string | null): string | null {
  for (const part of (link ?? '').split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1]!;
  }
  return null;
}

/**
 * Every file of a repository revision under `under` (all files when absent), from the hub's tree API
 * (`GET /api/<models|datasets>/<repo>/tree/<revision>/<path>?recursive=true`, paged by Link headers), as
 * huggingface_hub's list_repo_files reads it. A plain static mirror has no API: its 404 says so.
 */
export async function listHubFiles(ref: HubRef, opts: HubOptions, under = ''): Promise<HubTreeFile[]> {
  const kind = ref.type === 'dataset' ? 'datasets' : 'models';
  const label = `${ref.type === 'dataset' ? 'dataset ' : ''}${ref.repoId}@${ref.revision}`;
  const tail = under ? `/${under.split('/').map(encodeURIComponent).join('/')}` : '';
  let url: string | null = `${opts.endpoint}/api/${kind}/${ref.repoId}/tree/${encodeURIComponent(ref.revision)}${tail}?recursive=true`;
  const hubHost = new URL(opts.endpoint).host;
  const out: HubTreeFile[] = [];
  for (let page = 0; url; page++) {
    if (page > 10_000) throw new UserError(`${url}: the listing does not end`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token && new URL(url).host === hubHost) headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? hubDownloadTimeoutMs()) });
    } catch (e) {
      throw new TransferFailed(`cannot reach ${new URL(url).origin} for ${label}: ${(e as Error).cause ?? (e as Error).message} (${unreachableAdvice(opts.cacheDir, ref)})`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UserError(`${label}: access denied (HTTP ${res.status}); set HF_TOKEN for gated or private repositories`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new NoHubListing(`${label}: the hub lists no files there (${url} answers 404: no such repository, revision or folder, or a static mirror without the hub's API)`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new TransferFailed(`${url}: HTTP ${res.status}`);
    }
    let entries: unknown;
    try {
      entries = await res.json();
    } catch (e) {
      throw new TransferFailed(`${url}: the listing is not JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(entries)) throw new UserError(`${url}: the listing is not a JSON array`);
    for (const e of entries as { type?: string; path?: string; size?: number; lfs?: { oid?: string } }[]) {
      if (e.type !== 'file' || typeof e.path !== 'string') continue;
      out.push({ path: e.path, size: Number(e.size ?? 0), ...(e.lfs?.oid ? { sha256: e.lfs.oid } : {}) });
    }
    const next = nextLink(res.headers.get('link'));
    url = next ? new URL(next, url).toString() : null;
  }
  return out;
}
