import type { Command } from 'commander';
import { defaultDatasetRoot, listDatasets } from '../data/registry.js';
import type { DatasetDescriptor } from '../data/types.js';
import { hubPackageCached } from '../data/wds-datasets.js';
import { hfDatasetCached } from '../data/hf-parquet.js';
import { formatTable } from '../util/text-table.js';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** Where a dataset's data comes from, in words. */
export function describeSource(d: DatasetDescriptor): string {
  const s = d.source;
  const total = d.resources.reduce((t, r) => t + (r.bytes ?? 0), 0);
  const size = total ? ` ${mb(total)}` : '';
  switch (s.kind) {
    case 'bundled':
      return `bundled${s.download ? ` (or download${size})` : ''}`;
    case 'download':
      return `download${size}`;
    case 'user':
      return `you provide ${s.layout}`;
    case 'hub':
      return `hub ${s.repoId}${s.revision ? `@${s.revision}` : ''}`;
  }
}

const ORIGIN: Record<DatasetDescriptor['classOrigin'], string> = { paper: 'paper', bundled: 'bundled list', data: 'from files', file: '--classnames' };

function classesOf(d: DatasetDescriptor): string {
  return d.classOrigin === 'data' ? ORIGIN.data : `${d.classes.length} (${ORIGIN[d.classOrigin]})`;
}

/** `train 50000, test 10000`; a split serving another role says so (`val 50000 as test`). */
export function describeSplits(d: DatasetDescriptor): string {
  const roleOf = new Map(Object.entries(d.roles).map(([role, split]) => [split, role]));
  return d.splits
    .map((s) => {
      const role = roleOf.get(s);
      return `${s}${d.splitSizes[s] ? ` ${d.splitSizes[s]}` : ''}${role && role !== s ? ` as ${role}` : ''}`;
    })
    .join(', ');
}

function presence(d: DatasetDescriptor, root: string | undefined): string {
  if (root === undefined) {
    if (d.source.kind !== 'hub') return '-';
    const cached = (d.source.format ?? 'wds') === 'wds' ? hubPackageCached(d.source, [d.roles.test]) : hfDatasetCached(d.source, [d.roles.test]);
    return cached ? `${d.roles.test} in the Hugging Face cache` : 'fetched on first use';
  }
  if (d.isPresent(root)) return 'yes';
  return d.resources.length ? 'no (downloads on first use)' : 'no';
}

/** The root `datasets` checks: --dataset-root, else the default one; none for hub packages (the Hugging Face cache) and generic layouts. */
function rootOf(d: DatasetDescriptor, flag: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  if (d.source.kind === 'hub' || (d.source.kind === 'user' && d.source.generic)) return undefined;
  return defaultDatasetRoot(d.name);
}

export function register(program: Command): void {
  program
    .command('datasets')
    .description("list the datasets: where their data comes from, classes, splits against the paper's Table 9, metric, and whether each is present locally")
    .option('--dataset-root <dir>', "check this root instead of each dataset's default")
    .action((f: { datasetRoot?: string }) => {
      const all = listDatasets();
      const rows = all.map((d) => {
        const root = rootOf(d, f.datasetRoot);
        return {
          dataset: d.name,
          source: describeSource(d),
          classes: classesOf(d),
          splits: describeSplits(d),
          paper_train_test: d.paper ? `${d.paper.train}/${d.paper.test}` : '-',
          // a package without the paper's templates brings its own
          templates: d.templates.length || (d.format === 'wds' ? 'package' : 0),
          primary_metric: d.primaryMetric,
          present: presence(d, root),
          root: root ?? (d.source.kind === 'hub' ? '(Hugging Face cache)' : '(--dataset-root)'),
        };
      });
      process.stdout.write(formatTable(['dataset', 'source', 'classes', 'splits', 'paper_train_test', 'templates', 'primary_metric', 'present', 'root'], rows));
      const notes = all.filter((d) => d.protocolNote);
      if (notes.length) {
        process.stdout.write('\nwhere the data differs from the paper (Table 9):\n');
        for (const d of notes) process.stdout.write(`  ${d.name}: ${d.protocolNote}\n`);
      }
    });
}
