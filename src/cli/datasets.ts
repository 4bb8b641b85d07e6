import type { Command } from 'commander';
import { defaultDatasetRoot, listDatasets } from '../data/registry.js';
import type { DatasetDescriptor } from '../data/types.js';
import { hubPackageCached } from '../data/wds-datasets.js';
import { hfDatasetCached } from '../data/hf-parquet.js';
import { formatTable, wrapLines } from '../util/text-table.js';

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

/** `train 50000, test 10000`; a split's other names (`test 50000 (= val)`) and another role (`val 50000 as test`) said. */
export function describeSplits(d: DatasetDescriptor): string {
  const roleOf = new Map(Object.entries(d.roles).map(([role, split]) => [split, role]));
  return d.splits
    .map((s) => {
      const role = roleOf.get(s);
      const aliases = Object.entries(d.splitAliases ?? {}).filter(([, own]) => own === s).map(([a]) => a);
      return `${s}${d.splitSizes[s] ? ` ${d.splitSizes[s]}` : ''}${aliases.length ? ` (= ${aliases.join(', ')})` : ''}${role && role !== s ? ` as ${role}` : ''}`;
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

/** `s` cut to at most `width` characters, with an ellipsis. */
function elide(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`;
}

/** The compact view's few words on whether the data is here. */
function presentShort(present: string): string {
  if (present.startsWith('no (downloads')) return 'downloads';
  if (present === 'fetched on first use') return 'on first use';
  if (present.endsWith('in the Hugging Face cache')) return 'cached';
  return present;
}

const TERMINAL_WIDTH = 100;

export function register(program: Command): void {
  program
    .command('datasets')
    .description("list the datasets: where their data comes from, classes, splits against the paper's Table 9, metric, and whether each is present locally")
    .option('--dataset-root <dir>', "check this root instead of each dataset's default")
    .option('--wide', 'every column: splits, the paper\'s sizes, templates and each root (default: a view that fits 100 columns)', false)
    .action((f: { datasetRoot?: string; wide: boolean }) => {
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
          test_images: d.splitSizes[d.roles.test] ?? '',
        };
      });
      if (f.wide) {
        process.stdout.write(formatTable(['dataset', 'source', 'classes', 'splits', 'paper_train_test', 'templates', 'primary_metric', 'present', 'root'], rows));
      } else {
        const compact = rows.map((r, i) => ({
          dataset: r.dataset,
          classes: r.classes.replace(/ \(.*\)$/, ''),
          primary_metric: r.primary_metric,
          present: presentShort(r.present),
          // the revision a hub source is pinned at is in --wide
          source: all[i]!.source.kind === 'hub' ? r.source.replace(/@\S+$/, '') : r.source,
        }));
        const cols = ['dataset', 'classes', 'primary_metric', 'present', 'source'] as const;
        const used = cols.slice(0, -1).reduce((w, c) => w + 2 + Math.max(c.length, ...compact.map((r) => String(r[c]).length)), 0);
        const room = Math.max(20, TERMINAL_WIDTH - used);
        process.stdout.write(formatTable([...cols], compact.map((r) => ({ ...r, source: elide(r.source, room) }))));
      }
      const notes = all.filter((d) => d.protocolNote);
      if (notes.length) {
        process.stdout.write('\nwhere the data differs from the paper (Table 9):\n');
        for (const d of notes) {
          const text = `  ${d.name}: ${d.protocolNote}`;
          process.stdout.write(`${f.wide ? text : wrapLines(text, TERMINAL_WIDTH - 4).join('\n    ')}\n`);
        }
      }
    });
}
