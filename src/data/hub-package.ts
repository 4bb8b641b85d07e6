import fs from 'node:fs';
import { UserError } from '../errors.js';
import { HubRepo, HubUnavailable, offlineReason, type HubOptions, type HubRef } from '../hub/hub.js';
import { parseShardCount, shardNames, WDS_FILES } from './loaders/wds.js';

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
      throw new UserError(`${label} has no split '${split}' (no ${split}/nshards.txt)`);
    }
    const n = parseShardCount(fs.readFileSync(nfile, 'utf8'), `${label}: ${split}/nshards.txt`);
    for (const shard of shardNames(split, n)) await repo.require(shard);
  }
  return repo.finish();
}
