import { Option, type Command } from 'commander';
import { parseShard, type Shard } from '../util/shard.js';
import { positiveInt } from './model-options.js';

export interface ShardFlags {
  shard?: string;
  shardCount?: number;
}

/** --shard K/N|auto and --shard-count, shared by embed and the evaluation commands. */
export function addShardOptions(cmd: Command): Command {
  return cmd
    .option(
      '--shard <K/N|auto>',
      'compute only shard K of N (1-based) of the embeddings, into the shared cache; auto: from a Slurm array task or a Kubernetes Indexed Job',
    )
    .addOption(new Option('--shard-count <n>', 'N for --shard auto in a Kubernetes Indexed Job (default $CLIP_BENCH_SHARDS)').argParser(positiveInt('--shard-count')));
}

/** The parsed --shard, or null. */
export function shardOf(f: ShardFlags): Shard | null {
  return f.shard === undefined ? null : parseShard(f.shard, { count: f.shardCount });
}
