import { embedShare, imageEntryComplete, type ShardOutcome } from '../cache/embeddings.js';
import { shardLabel, type Shard } from '../util/shard.js';
import { embeddingRequest, type EvalContext } from './context.js';

/** One line about a shard's part of an entry. */
export function describeOutcome(what: string, shard: Shard, o: ShardOutcome): string {
  const mine = `shard ${shardLabel(shard)} (${shard.source}): rows ${o.share.start}-${o.share.end} of ${o.n}, ${o.computed} computed now`;
  if (o.assembled) return `${what}: ${mine}; every chunk present: assembled the entry`;
  if (o.complete) return `${what}: ${mine}; the entry is complete`;
  if (o.missing === 0) return `${what}: ${mine}; every chunk present, another process is assembling the entry`;
  return `${what}: ${mine}; waiting on other shards (${o.missing} rows missing): the last shard to finish, a later run or \`clip-bench cache finish\` assembles the entry`;
}

/**
 * An evaluation under --shard: embeds this shard's share of every split it reads, then tells whether this shard
 * evaluates: when all those entries are complete and it assembled one of them (the shard whose assembly finishes
 * last sees all complete, so someone evaluates), or, when they were all complete before it started (a rerun),
 * when it is shard 1. The others say so and move on: one evaluation per unit, not N.
 */
export async function sharesReady(ctx: EvalContext, splits: readonly string[], shard: Shard): Promise<boolean> {
  const { model, dataset } = ctx;
  const requests = [];
  const outcomes: ShardOutcome[] = [];
  for (const split of splits) {
    const s = await ctx.open(split);
    const req = embeddingRequest(model, s, ctx.data);
    const o = await embedShare(req, shard);
    process.stderr.write(`${describeOutcome(`${s.spec.name}/${split} with ${model.name}`, shard, o)}\n`);
    requests.push(req);
    outcomes.push(o);
  }
  // checked after all of them: an entry finished early may have been completed by another shard meanwhile
  let complete = true;
  for (const req of requests) complete &&= await imageEntryComplete(req);
  const mine = outcomes.some((o) => o.assembled) || (outcomes.every((o) => o.alreadyComplete) && shard.index === 0);
  if (!complete) process.stderr.write(`${dataset} with ${model.name}: not evaluated by shard ${shardLabel(shard)}: waiting on other shards; the one that completes the embeddings evaluates\n`);
  else if (!mine) process.stderr.write(`${dataset} with ${model.name}: not evaluated by shard ${shardLabel(shard)}: the shard that completed the embeddings evaluates\n`);
  return complete && mine;
}
