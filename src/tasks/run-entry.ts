import { createHash } from 'node:crypto';
import { deviceLabel } from '../model/device.js';
import { modelImageGflops } from '../model/flops.js';
import type { OnnxClipModel } from '../model/clip-model.js';
import { runConfig, type RunEntry, type RunFlags, type TableName, type Variant } from '../results/index.js';
import { toolVersion } from '../version.js';

const hashConfig = (config: Record<string, unknown>): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);

/** The config hash a run of `table` with these flags records (`suite` compares it to decide whether a step is done). */
export function configHash<T extends TableName>(table: T, flags: Parameters<typeof runConfig<T>>[1] & RunFlags): string {
  return hashConfig(runConfig(table, flags));
}

/** The variant of a model its rows record (src/results/tables/types.ts Variant): dtype, preprocessing, files, provider. */
export function rowVariant(model: OnnxClipModel): Required<Variant> {
  return {
    dtype: model.dtype,
    preprocess: createHash('sha256').update(JSON.stringify(model.preprocess)).digest('hex').slice(0, 12),
    model_digest: model.filesDigest,
    provider: deviceLabel(model.device),
  };
}

/** The metadata every run records: what was evaluated, with which tool and configuration (from the flags, the same fields for every table), and when. */
export function runMetadata<T extends TableName>(
  table: T,
  flags: Parameters<typeof runConfig<T>>[1] & RunFlags,
  model: OnnxClipModel,
  dataset: string,
  datasetFingerprint: string,
  extra: Record<string, unknown>,
): RunEntry {
  const config = runConfig(table, flags);
  return {
    model: model.name,
    dataset,
    // the variant, as its rows record it: runs of other variants are kept beside this one
    ...rowVariant(model),
    features: model.features,
    tool_version: toolVersion(),
    model_identity: model.identity,
    image_gflops: modelImageGflops(model.files.dir),
    dataset_fingerprint: datasetFingerprint,
    // where the towers ran (--device auto records what it chose) and on which GPU (null: the CPU, or not known)
    execution_provider: deviceLabel(model.device),
    adapter: model.device.adapter,
    ...extra,
    config,
    config_hash: hashConfig(config),
    timestamp: new Date().toISOString(),
  };
}
