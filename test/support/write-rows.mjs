// A writer process for the concurrency test: writes `count` zeroshot rows of model `<name>`, one writeResults call each.
//   node write-rows.mjs OUT NAME COUNT
import { writeResults } from '../../dist/src/results/index.js';

const [out, name, count] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  const row = {
    model: name, dataset: `d${i}`, split: 'test', prompts: 'single', n_templates: 1, n_images: 10, top1: i, top5: i, mean_per_class: i,
    primary_metric: 'accuracy', gain_vs_contextless: null, limit: null, subset_seed: null, skipped_images: 0,
  };
  writeResults(out, 'zeroshot', [row], [{ model: name, dataset: `d${i}`, split: 'test', limit: null, subset_seed: null }]);
}
