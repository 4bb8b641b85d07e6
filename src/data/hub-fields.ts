/**
 * What every dataset read from a hub dataset repository declares, whatever its layout (a WebDataset package or
 * parquet shards), and the part of its definition those fields decide.
 */
import type { DatasetDef } from './descriptor.js';
import type { PrimaryMetric, SplitRoles } from './types.js';

export interface HubDatasetFields {
  name: string;
  aliases?: string[];
  repoId: string;
  revision?: string;
  description?: string;
  /** the paper's class names, mapped by name onto the data's (absent: the data's own names) */
  classes?: string[];
  /** absent or []: the data's own templates (a package's zeroshot_classification_templates.txt), else ImageNet's 80 */
  templates?: string[];
  primaryMetric?: PrimaryMetric;
  splits?: string[];
  roles?: SplitRoles;
  splitSizes?: Record<string, number>;
}

/** The definition's fields the hub fields decide (the layout's module adds its source, files and loader). */
export function hubDatasetBase(f: HubDatasetFields): Pick<
  DatasetDef,
  'name' | 'aliases' | 'homepage' | 'classes' | 'classOrigin' | 'classCountFromData' | 'templates' | 'primaryMetric' | 'splits' | 'anySplit' | 'roles' | 'splitSizes'
> {
  return {
    name: f.name,
    aliases: f.aliases ?? [],
    homepage: `https://huggingface.co/datasets/${f.repoId}`,
    classes: f.classes ?? [],
    classOrigin: f.classes ? 'paper' : 'data',
    classCountFromData: true,
    templates: f.templates ?? [],
    primaryMetric: f.primaryMetric ?? 'accuracy',
    splits: f.splits ?? ['test', 'train'],
    anySplit: !f.splits,
    roles: f.roles ?? { train: 'train', test: 'test' },
    splitSizes: f.splitSizes ?? {},
  };
}
