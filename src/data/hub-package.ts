import fs from 'node:fs';
import { UserError } from '../errors.js';
import { HubRepo, HubUnavailable, offlineReason, type HubOptions, type HubRef } from '../hub/hub.js';
import { parseShardCount, shardName, WDS_FILES } from './loaders/wds.js';

/** Shards fetched at once: several connections fill a fast link that one does not. */
const SHARD_DOWNLOADS = 4;

/**
 * Run `job` over 0 .. count-1, at most `limit` at a time. A failure stops new jobs; once the running ones end, the
 * error of the first failed index is thrown (the same message whatever finished first). No list of `count` items is
 * built: a count read from a file is bounded by the shards the server has (the first one it lacks stops it).
 */
async function inParallelCount(count: number, limit: number, job: (at: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const failures: { at: number; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < count) {
      const at = next++;
      try {
        await job(at);
      } catch (error) {
        failures.push({ at, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failures.length) throw failures.sort((a, b) => a.at - b.at)[0].error;
}

/** `job` over `items`, as inParallelCount. */
export async function inParallel<T>(items: T[], limit: number, job: (item: T) => Promise<unknown>): Promise<void> {
  return inParallelCount(items.length, limit, (at) => job(items[at]!));
}

/**
 * Make the metadata of a WebDataset package on the hub (a dataset repository) and the shards of `splits` available
 * in the Hugging Face cache (datasets--owner--name), and return the snapshot folder. Only the splits asked for are
 * fetched: first <split>/nshards.txt, then its shards. Offline (HF_HUB_OFFLINE), everything must be cached.
 */
export async function fetchWdsPackage(ref: HubRef, splits: string[], opts: HubOptions): Promise<string> {
  const repo = new HubRepo({ ...ref, type: 'dataset' }, opts);
  const label = `dataset ${ref.repoId}@${ref.revision}`;
  await repo.require(WDS_FILES.classnames);
  await repo.file(WDS_FILES.templates);
  await repo.file(WDS_FILES.type);
  for (const split of splits) {
    const nfile = await repo.file(`${split}/nshards.txt`);
    if (!nfile) {
      if (opts.offline) throw new HubUnavailable(`${offlineReason(opts)} and split '${split}' of ${label} is not in the cache (${repo.dir}: no ${split}/nshards.txt)`);
      throw new HubUnavailable(`${label} has no split '${split}' (no ${split}/nshards.txt)`);
    }
    const n = parseShardCount(fs.readFileSync(nfile, 'utf8'), `${label}: ${split}/nshards.txt`);
    await inParallelCount(n, SHARD_DOWNLOADS, async (i) => {
      try {
        await repo.require(shardName(split, i));
      } catch (e) {
        // a shard the package's own count promises is a broken package, not data the source lacks
        if (e instanceof HubUnavailable && !opts.offline) throw new UserError(`${label}: ${split}/nshards.txt says ${n} shards, but the repository has no ${shardName(split, i)}`);
        throw e;
      }
    });
  }
  return repo.finish();
}
