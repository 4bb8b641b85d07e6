import { paperClassesAndTemplates, paperInfo, table9PrimaryMetric, type DatasetDef } from './descriptor.js';
import { parquetHubDef, type ParquetHubFields } from './hf-parquet.js';

/**
 * The paper's datasets that clip-bench reads as parquet datasets from the hub: copies that the Massive Image
 * Embedding Benchmark (MIEB, in MTEB) evaluates, at the revisions MTEB's task definitions pin.
 */
interface ParquetFacts extends Omit<ParquetHubFields, 'name' | 'classes' | 'templates' | 'primaryMetric'> {
  key: string;
  note: string;
}

/**
 * Birdsnap: MTEB's Birdsnap tasks pin isaacchung/birdsnap at this revision (the same data MIEB later copied to
 * mteb/birdsnap, whose revision the sources at hand do not give); the class is the `common` column.
 */
export const BIRDSNAP_REPO = { repoId: 'isaacchung/birdsnap', revision: 'fd23015508be94f0b5b59d61630e4ea2536509e4' };
/** UCF101: MTEB's UCF101 zero-shot task pins mteb/ucf101 (a copy of flwrlabs/ucf101) at this revision. */
export const UCF101_REPO = { repoId: 'mteb/ucf101', revision: 'e0618988874f6ffbf90af69fa6dccecb9be3deb3' };

const FACTS: ParquetFacts[] = [
  {
    key: 'birdsnap',
    ...BIRDSNAP_REPO,
    columns: { label: 'common' },
    splits: ['train', 'test'],
    note:
      `the images that were still online when ${BIRDSNAP_REPO.repoId}@${BIRDSNAP_REPO.revision.slice(0, 7)} was made (the revision MTEB pins), not the paper's 2020 download: ` +
      "train and test splits of other sizes than the paper's 42,283/2,149 (MTEB counts 1,851 test images); one train image does not decode (MIEB drops it by index): " +
      "linear-probe and few-shot stop at it naming it unless --skip-bad-images, which leaves it out and counts it in the results; classes from the 'common' column, mapped onto the paper's names",
  },
  {
    key: 'ucf101',
    ...UCF101_REPO,
    middleFrame: { videoColumns: ['video_id', 'clip_id'], frameColumn: 'frame' },
    splits: ['train', 'test'],
    note:
      `frames of ${UCF101_REPO.repoId}@${UCF101_REPO.revision.slice(0, 7)} (flwrlabs/ucf101: every frame of every video, split 1 of the authors' train/test lists, 9,537/3,783 videos against the paper's 9,537/1,794): ` +
      'clip-bench keeps one frame per video, the middle one by frame number (position floor(n/2) of its n frames), as the paper takes the middle frame; the frames are the images the copy stores, not frames clip-bench decodes from the videos',
  },
];

function parquetDef(f: ParquetFacts): DatasetDef {
  const { classes, templates } = paperClassesAndTemplates(f.key);
  const paper = paperInfo(f.key);
  const def = parquetHubDef({
    ...f,
    name: f.key,
    classes,
    templates,
    primaryMetric: table9PrimaryMetric(f.key),
    description: `${paper.title}: the parquet dataset ${f.repoId}@${f.revision!.slice(0, 7)} from the hub (paper's ${classes.length} class names and ${templates.length} templates, mapped by name onto the dataset's)`,
  });
  return { ...def, paper, protocolNote: f.note };
}

/** Birdsnap and UCF101 from the hub's parquet copies. */
export function paperParquetDatasets(): DatasetDef[] {
  return FACTS.map(parquetDef);
}
