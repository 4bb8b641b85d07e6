import type { ImageEmbeddings } from '../cache/embeddings.js';
import type { ClipModel } from '../model/types.js';
import type { PrimaryMetric } from '../data/types.js';
import { fillPrompts, templatesFor, type PromptMode } from './prompts.js';
import { classWeights, zeroshotLogits } from './zeroshot.js';
import type { Metrics } from './metrics.js';
import { scoredMetrics } from './primary.js';

export interface ZeroshotSetup {
  modes: PromptMode[];
  /** names per class (usually one; the paper lists several for some classes) */
  classNames: string[][];
  /** the dataset's own template list (empty: ImageNet's 80) */
  datasetTemplates: string[];
  /** --templates: replaces the ensemble's list */
  templatesOverride?: string[];
  primaryMetric: PrimaryMetric;
}

export interface ZeroshotResult {
  mode: PromptMode;
  templates: string[];
  metrics: Metrics;
  /** points over the contextless baseline (null for contextless itself, or when it was not run) */
  gainVsContextless: number | null;
}

/** How text embeddings of prompts are obtained (cached by the caller). */
export type EmbedTexts = (model: ClipModel, texts: string[]) => Promise<{ embeddings: Float32Array; dim: number }>;

/** Evaluate every prompt mode on one set of cached image embeddings. */
export async function runZeroshot(model: ClipModel, images: ImageEmbeddings, setup: ZeroshotSetup, embedTexts: EmbedTexts): Promise<ZeroshotResult[]> {
  const results: ZeroshotResult[] = [];
  for (const mode of setup.modes) {
    const templates = templatesFor(mode, setup.datasetTemplates, setup.templatesOverride);
    const { texts, perClass } = fillPrompts(setup.classNames, templates);
    const text = await embedTexts(model, texts);
    if (text.dim !== images.dim) {
      throw new Error(`text embeddings are ${text.dim}-d but image embeddings ${images.dim}-d`);
    }
    const weights = classWeights(text.embeddings, perClass, text.dim);
    const nClasses = setup.classNames.length;
    // each class scored by its cosine logit: classification metrics by argmax, ROC AUC and mAP by ranking
    const logits = zeroshotLogits(images.embeddings, images.n, images.dim, weights, nClasses);
    const metrics = scoredMetrics(setup.primaryMetric, logits, images.labels, images.n, nClasses, images.targets);
    results.push({ mode, templates, metrics, gainVsContextless: null });
  }
  const base = results.find((r) => r.mode === 'contextless');
  if (base) {
    const b = base.metrics.primary!.value;
    for (const r of results) {
      const v = r.metrics.primary!.value;
      if (r !== base) r.gainVsContextless = v === null || b === null ? null : v - b;
    }
  }
  return results;
}
