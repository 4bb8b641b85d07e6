import { Option, type Command } from 'commander';
import { cacheDirOf } from '../tasks/context.js';
import { finishEntry, listEntries, matchesFilter, removeEntries, type RemoveFilter } from '../cache/store.js';
import { toolVersion } from '../version.js';
import { formatTable, plural } from '../util/text-table.js';

interface FilterFlags extends RemoveFilter {
  cacheDir?: string;
}

function addFilters(cmd: Command): Command {
  return cmd
    .option('--cache-dir <dir>', 'embedding cache directory (default $XDG_CACHE_HOME/clip-bench/embeddings)')
    .option('--dataset <name>', 'only entries of this dataset')
    .option('--model <name>', "only entries of this model (its name, or >= 6 hex digits of its identity)")
    .option('--split <split>', 'only entries of this split')
    .addOption(new Option('--kind <kind>', 'only image or text entries').choices(['image', 'text']))
    .option('--hash <prefix>', 'only the entry whose hash starts with this')
    .option('--incomplete', 'only incomplete entries (interrupted runs)');
}

function filterOf({ cacheDir: _, ...filter }: FilterFlags): RemoveFilter {
  return filter;
}

const mb = (b: number) => (b / 1e6).toFixed(1);

export function register(program: Command): void {
  const cache = program.command('cache').description('list, assemble or remove embedding cache entries');
  addFilters(cache.command('ls').description('list cache entries')).action(async (f: FilterFlags) => {
    const dir = cacheDirOf(f);
    const rows = (await listEntries(dir)).filter((r) => matchesFilter(r, filterOf(f)));
    const table = rows.map((r) => ({
      hash: r.hash.slice(0, 12),
      model: r.modelName ?? '',
      dataset: r.dataset ?? '',
      split: r.split ?? '',
      kind: r.kind ?? '',
      rows: r.complete ? String(r.n) : `${r.rowsDone ?? 0}/${r.n ?? '?'}`,
      dim: r.dim ?? '',
      MB: mb(r.bytes),
      state: r.complete ? 'complete' : r.writing ? 'writing' : 'incomplete',
      created: r.created ?? '',
    }));
    process.stdout.write(formatTable(['hash', 'model', 'dataset', 'split', 'kind', 'rows', 'dim', 'MB', 'state', 'created'], table));
    process.stderr.write(`${plural(rows.length, 'entry', 'entries')}, ${mb(rows.reduce((s, r) => s + r.bytes, 0))} MB in ${dir}\n`);
  });
  addFilters(cache.command('rm').description('remove cache entries matching the filters (--all for every entry)'))
    .option('--all', 'remove every entry')
    .action(async (f: FilterFlags) => {
      const dir = cacheDirOf(f);
      const r = await removeEntries(dir, filterOf(f));
      process.stdout.write(`removed ${plural(r.removed, 'entry', 'entries')} (${mb(r.bytes)} MB)${r.busy ? `; ${r.busy} left alone: being written` : ''}\n`);
    });
  addFilters(cache.command('finish').description('assemble incomplete entries whose chunks are all present (after a sharded run); exit 1 if some stay incomplete')).action(
    async (f: FilterFlags) => {
      const dir = cacheDirOf(f);
      const rows = (await listEntries(dir)).filter((r) => !r.complete && matchesFilter(r, filterOf(f)));
      let left = 0;
      for (const r of rows) {
        const what = `${r.hash.slice(0, 12)} ${r.modelName ?? '?'} ${r.dataset ?? '?'}/${r.split ?? '?'}`;
        const res = await finishEntry(r.dir, r.hash, toolVersion());
        if (res.status === 'complete') {
          process.stdout.write(`${what}: ${res.assembled ? 'assembled' : 'already complete'} (${res.meta.n} x ${res.meta.dim})\n`);
          continue;
        }
        left++;
        if (res.status === 'incomplete') {
          const missing = res.missing.reduce((a, m) => a + m.end - m.start, 0);
          process.stdout.write(`${what}: ${missing} of ${res.n} rows missing${r.writing ? ' (being computed)' : ' (nobody is computing them: rerun the missing shards)'}\n`);
        } else if (res.status === 'busy') {
          const h = res.holder;
          process.stdout.write(`${what}: being written${h ? ` by pid ${h.pid} on ${h.hostname}` : ''}\n`);
        } else process.stdout.write(`${what}: no chunks\n`);
      }
      process.stderr.write(`${rows.length - left} of ${rows.length} incomplete entries assembled${left ? `; ${left} still incomplete` : ''}\n`);
      if (left > 0) process.exitCode = 1;
    },
  );
}
