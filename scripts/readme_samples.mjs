#!/usr/bin/env node
// The README's sample outputs, made by the tool itself: each fenced block after a `<!-- sample: NAME -->` line is
// the stdout of the command NAME stands for below, run on the built-in model with a fresh cache.
//   node scripts/readme_samples.mjs           rewrite the blocks in README.md
//   node scripts/readme_samples.mjs --check   exit 1 (printing the first difference) where a block is not what the tool prints
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = path.join(root, 'README.md');
const check = process.argv.includes('--check');

// every run, in order; a sample shows one run's stdout (after `shown`, the command line the README prints above it)
const RUNS = [
  { name: 'zeroshot', args: ['zeroshot', '--out', '{tmp}/fp32'] },
  { name: 'zeroshot-q8', args: ['zeroshot', '--dtype', 'q8', '--out', '{tmp}/q8'] },
  { name: 'compare', args: ['compare', '{tmp}/fp32', '{tmp}/q8'] },
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-readme-'));
const outputs = new Map();
try {
  const env = { ...process.env, XDG_CACHE_HOME: path.join(tmp, 'xdg') };
  for (const run of RUNS) {
    const args = run.args.map((a) => a.replace('{tmp}', tmp));
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'clip-bench'), ...args, ...(args[0] === 'zeroshot' ? ['--no-progress'] : [])], { env, encoding: 'utf8', cwd: tmp });
    if (r.status !== 0 && !(run.name.startsWith('regress') && r.status === 1)) {
      process.stderr.write(`clip-bench ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
      process.exit(2);
    }
    outputs.set(run.name, `${run.shown ? `${run.shown}\n` : ''}${r.stdout.trimEnd()}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

const text = fs.readFileSync(readme, 'utf8');
const lines = text.split('\n');
const problems = [];
const out = [];
for (let i = 0; i < lines.length; i++) {
  out.push(lines[i]);
  const m = /^<!-- sample: ([\w-]+) -->$/.exec(lines[i]);
  if (!m) continue;
  const want = outputs.get(m[1]);
  if (want === undefined) {
    problems.push(`README.md:${i + 1}: no sample called ${m[1]}`);
    continue;
  }
  if (lines[i + 1] !== '```') {
    problems.push(`README.md:${i + 2}: a fenced block must follow the sample marker`);
    continue;
  }
  const end = lines.indexOf('```', i + 2);
  const have = lines.slice(i + 2, end).join('\n');
  if (have !== want) problems.push(`README.md:${i + 3}: the ${m[1]} sample is not what the tool prints; it prints:\n${want}\n--- the README has:\n${have}`);
  out.push('```', ...want.split('\n'), '```');
  i = end;
}
if (check) {
  if (problems.length) {
    process.stderr.write(`${problems.join('\n\n')}\n\nrun: node scripts/readme_samples.mjs\n`);
    process.exit(1);
  }
  process.stdout.write(`README.md: ${[...text.matchAll(/^<!-- sample: /gm)].length} samples are what the tool prints\n`);
} else {
  fs.writeFileSync(readme, out.join('\n'));
  process.stdout.write(`README.md: samples rewritten (${problems.length} of them had changed)\n`);
}
