import type { Command } from 'commander';
import { defaultDatasetRoot, listDatasets } from '../data/registry.js';
import type { DatasetDescriptor } from '../data/types.js';
import { formatTable } from '../report/results.js';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** Where a dataset's data comes from, in words. */
export function describeSource(d: DatasetDescriptor): string {
  const s = d.source;
  const size = (): string => {
    const total = d.resources.reduce((t, r) => t + (r.bytes ?? 0), 0);
    return total ? ` ${mb(total)}` : '';
  };
  switch (s.kind) {
    case 'bundled':
      return `bundled${s.download ? `; download${size()}` : ''}`;
    case 'download':
      return `download${size()}`;
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

function presence(d: DatasetDescriptor, root: string | undefined): string {
  if (root === undefined) return '-';
  if (d.isPresent(root)) return 'yes';
  return d.resources.length ? 'no (downloads on first use)' : 'no';
}

export function register(program: Command): void {
  program
    .command('datasets')
    .description('list the datasets: where their data comes from, classes, splits and sizes, and whether each is present locally')
    .option('--dataset-root <dir>', 'check this root instead of each dataset\'s default')
    .action((f: { datasetRoot?: string }) => {
      const rows = listDatasets().map((d) => {
        // a generic layout has no default root: it is wherever --dataset-root says
        const root = f.datasetRoot ?? (d.source.kind === 'user' && d.source.generic ? undefined : defaultDatasetRoot(d.name));
        return {
          dataset: d.name,
          format: d.format,
          source: describeSource(d),
          classes: classesOf(d),
          splits: d.splits.map((s) => (d.splitSizes[s] ? `${s} (${d.splitSizes[s]})` : s)).join(', '),
          templates: d.templates.length,
          primary_metric: d.primaryMetric,
          present: presence(d, root),
          root: root ?? '(--dataset-root)',
        };
      });
      process.stdout.write(formatTable(['dataset', 'format', 'source', 'classes', 'splits', 'templates', 'primary_metric', 'present', 'root'], rows));
    });
}
