import type { Command } from 'commander';
import { defaultDatasetRoot, listDatasets } from '../data/registry.js';
import { formatTable } from '../report/results.js';

export function register(program: Command): void {
  program
    .command('datasets')
    .description('list the datasets: classes, splits and sizes, and whether each is present locally')
    .option('--dataset-root <dir>', 'check this root instead of each dataset\'s default')
    .action((f: { datasetRoot?: string }) => {
      const rows = listDatasets().map((d) => {
        const root = f.datasetRoot ?? defaultDatasetRoot(d.name);
        const generic = d.format === 'imagefolder' || d.format === 'csv';
        return {
          dataset: d.name,
          format: d.format,
          classes: d.classes.length || (generic ? 'from files' : 0),
          splits: d.splits.map((s) => (d.splitSizes?.[s] ? `${s} (${d.splitSizes[s]})` : s)).join(', '),
          templates: d.templates.length,
          primary_metric: d.primaryMetric,
          present: generic ? '-' : d.isPresent(root) ? 'yes' : d.resources.length ? 'no (downloads on first use)' : 'no',
          root: generic ? '(--dataset-root)' : root,
        };
      });
      process.stdout.write(formatTable(['dataset', 'format', 'classes', 'splits', 'templates', 'primary_metric', 'present', 'root'], rows));
    });
}
