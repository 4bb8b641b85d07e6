#!/usr/bin/env node
// Sharded vs single-process embedding, side by side: `clip-bench embed` of one split as one process, and as N
// processes `--shard k/N` at once into one shared (fresh) cache, alternating which goes first. Prints every run,
// the medians, the ratio and the load average, and checks that both produce the same embeddings.npy.
// usage: npm run build && node scripts/bench_shard.mjs [--shards 4] [--runs 3] [--split train] [--model mini]
//        [--limit N] [--threads T]   (--threads applies to every process; default: onnxruntime's, all cores)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag } from './bench_args.mjs';
import { median, runProcess } from './bench_util.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shards = flag('shards', 4);
const runs = flag('runs', 3);
const split = flag('split', 'train');
const model = flag('model', 'mini');
const limit = flag('limit', 0);
const threads = flag('threads', 0);

const base = ['embed', '--model', model, '--split', split, '--no-progress'];
if (limit > 0) base.push('--limit', String(limit));
if (threads > 0) base.push('--threads', String(threads));

async function cli(args) {
  const r = await runProcess(process.execPath, [path.join(repo, 'bin', 'clip-bench'), ...args], { what: `clip-bench ${args.join(' ')}` });
  return r.out.trim();
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-bench_shard-'));

async function single() {
  const dir = tmp();
  const t0 = performance.now();
  const entry = await cli([...base, '--cache-dir', dir]);
  return { secs: (performance.now() - t0) / 1000, npy: fs.readFileSync(path.join(entry, 'embeddings.npy')), dir };
}

async function sharded() {
  const dir = tmp();
  const t0 = performance.now();
  const outs = await Promise.all(Array.from({ length: shards }, (_, k) => cli([...base, '--cache-dir', dir, '--shard', `${k + 1}/${shards}`])));
  const secs = (performance.now() - t0) / 1000;
  const entry = outs.find((o) => o !== '');
  if (!entry) throw new Error('no shard reported the assembled entry');
  return { secs, npy: fs.readFileSync(path.join(entry, 'embeddings.npy')), dir };
}

console.log(`embed ${split}${limit ? ` --limit ${limit}` : ''} with ${model}: 1 process vs ${shards} processes --shard k/${shards}, ${os.availableParallelism()} CPUs, ${runs} runs`);
console.log('run  first    1 process  sharded  sharded/1  load (1 min) before');
const one = [];
const many = [];
for (let i = 0; i < runs; i++) {
  const load = os.loadavg()[0];
  const order = i % 2 === 0 ? [single, sharded] : [sharded, single];
  const [a, b] = [await order[0](), await order[1]()];
  const [s, m] = i % 2 === 0 ? [a, b] : [b, a];
  if (!s.npy.equals(m.npy)) throw new Error('the sharded embeddings.npy differs from the single-process one');
  for (const r of [a, b]) fs.rmSync(r.dir, { recursive: true, force: true });
  one.push(s.secs);
  many.push(m.secs);
  console.log(`${String(i + 1).padStart(3)}  ${i % 2 === 0 ? 'single ' : 'sharded'}  ${s.secs.toFixed(1).padStart(8)} s  ${m.secs.toFixed(1).padStart(6)} s  ${(m.secs / s.secs).toFixed(2).padStart(9)}  ${load.toFixed(2).padStart(6)}`);
}
console.log(`median     ${median(one).toFixed(1).padStart(8)} s  ${median(many).toFixed(1).padStart(6)} s  ${median(many.map((m, i) => m / one[i])).toFixed(2).padStart(9)}  (load now ${os.loadavg()[0].toFixed(2)}); identical embeddings.npy in every run`);
