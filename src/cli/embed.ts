import type { Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import { embedShare } from '../cache/embeddings.js';
import { OpenedSplits, embeddingRequest, splitEmbeddings } from '../tasks/context.js';
import { describeOutcome } from '../tasks/shares.js';
import { addDataOptions, type DataFlags } from './data-options.js';
import { addFeaturesOption, addModelOptions, openModelFromFlags, type ModelFlags } from './model-options.js';
import { addShardOptions, shardOf, type ShardFlags } from './shard-options.js';

interface EmbedFlags extends ModelFlags, DataFlags, ShardFlags {
  dataset: string;
  split: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('embed')
    .description('fill the embedding cache with one split\'s image embeddings (resumable) and print where they are')
    .option('--dataset <name>', 'dataset (see `clip-bench datasets`)', DEFAULTS.dataset)
    .option('--split <split>', 'split to embed', DEFAULTS.split);
  addModelOptions(cmd);
  addFeaturesOption(cmd);
  addDataOptions(cmd);
  addShardOptions(cmd);
  cmd.action(async (f: EmbedFlags) => {
    const shard = shardOf(f);
    const model = await openModelFromFlags(f.model, f, true);
    try {
      const split = await new OpenedSplits().open(f.dataset, f.split, f);
      if (shard) {
        // this shard's chunks; the entry's folder is printed once it is complete
        const o = await embedShare(embeddingRequest(model, split, f), shard);
        process.stderr.write(`${describeOutcome(`${split.spec.name}/${f.split}`, shard, o)}\n`);
        if (o.complete) process.stdout.write(`${o.dir}\n`);
        return;
      }
      const started = performance.now();
      const emb = await splitEmbeddings(model, split, f);
      const secs = (performance.now() - started) / 1000;
      const how = emb.hit ? `cache hit, loaded in ${secs.toFixed(2)} s` : `computed in ${secs.toFixed(1)} s`;
      process.stderr.write(`${split.spec.name}/${f.split}: ${emb.n} x ${emb.dim} embeddings (${how})${emb.skipped ? `, ${emb.skipped} unreadable images skipped` : ''}\n`);
      process.stdout.write(`${emb.dir}\n`);
    } finally {
      await model.close();
    }
  });
}
