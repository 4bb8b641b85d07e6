// Errors the user causes are the user's: exit 2 with one line naming the flag or file, before any work is done,
// never "internal error" (exit 1), a hang, raw bytes on the terminal or a file left behind. One table, one real
// child process per case; then the warnings for legal but meaningless input, and tuning on the test split.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { repoRoot } from '../support/helpers.js';

const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const tinyVision = path.join(tiny, 'onnx', 'vision_model.onnx');
const tinyText = path.join(tiny, 'onnx', 'text_model.onnx');
const baseline = path.join(repoRoot, 'results', 'baseline');

interface Case {
  name: string;
  args: (t: Fixture) => string[];
  env?: NodeJS.ProcessEnv;
  /** what the one line on stderr must say */
  message: RegExp;
  /** more checks once the process is done */
  after?: (t: Fixture) => void;
}

interface Fixture {
  dir: string;
  file: string;
  cache: string;
  out: string;
  brokenConfigModel: string;
  binaryTemplates: string;
  outDirForPreprocess: string;
}

function fixture(): Fixture {
  const dir = tmpDir('exit');
  const file = path.join(dir, 'a-file.txt');
  fs.writeFileSync(file, 'not a directory\n');
  const brokenConfigModel = path.join(dir, 'broken-config');
  fs.cpSync(tiny, brokenConfigModel, { recursive: true });
  fs.writeFileSync(path.join(brokenConfigModel, 'config.json'), '{"vision_config": {');
  const binaryTemplates = path.join(dir, 'templates.bin');
  fs.writeFileSync(binaryTemplates, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x7b, 0x7d, 0x0a]));
  const outDirForPreprocess = path.join(dir, 'tensor-dir');
  fs.mkdirSync(outDirForPreprocess);
  return { dir, file, cache: path.join(dir, 'cache'), out: path.join(dir, 'out'), brokenConfigModel, binaryTemplates, outDirForPreprocess };
}

const zs = (t: Fixture, ...a: string[]) => ['zeroshot', '--cache-dir', t.cache, '--out', t.out, '--limit', '20', '--prompts', 'single', '--no-progress', ...a];
const lp = (t: Fixture, ...a: string[]) => ['linear-probe', '--cache-dir', t.cache, '--out', t.out, '--limit', '40', '--no-progress', ...a];

const CASES: Case[] = [
  { name: '--templates DIR', args: (t) => zs(t, '--prompts', 'ensemble', '--templates', t.dir), message: /^--templates .*: a directory, not a file$/ },
  { name: 'a binary templates file', args: (t) => zs(t, '--prompts', 'ensemble', '--templates', t.binaryTemplates), message: /^--templates .*templates\.bin: not a UTF-8 text file$/ },
  { name: '--classnames DIR', args: (t) => zs(t, '--classnames', t.dir), message: /^class-names file .*: a directory, not a file$/ },
  { name: '--out FILE', args: (t) => zs(t, '--out', t.file), message: /^--out .*a-file\.txt: a file, not a directory$/ },
  { name: '--out below a file', args: (t) => zs(t, '--out', path.join(t.file, 'sub')), message: /^--out .*a-file\.txt\/sub: .*a-file\.txt is not a directory$/ },
  { name: '--out /proc/x (used to spin at 100% CPU in a recursive mkdir)', args: (t) => zs(t, '--out', '/proc/clip-bench-x/y'), message: /^--out \/proc\/clip-bench-x\/y: cannot create directory/ },
  { name: '--cache-dir FILE', args: (t) => zs(t, '--cache-dir', t.file), message: /^cannot create directory .*a-file\.txt\/[0-9a-f]{2}\/[0-9a-f]{64}: .*a-file\.txt is not a directory$/ },
  { name: '--cache-dir /proc/x', args: (t) => zs(t, '--cache-dir', '/proc/clip-bench-x'), message: /^cannot create directory \/proc\/clip-bench-x\/.*: \/proc does not allow creating clip-bench-x \(ENOENT\)$/ },
  {
    name: 'XDG_CACHE_HOME under /proc (the default dataset folder)',
    args: (t) => ['zeroshot', '--dataset', 'mnist', '--cache-dir', t.cache, '--out', t.out, '--no-progress'],
    env: { XDG_CACHE_HOME: '/proc/clip-bench-xdg', CLIP_BENCH_DATASET_MIRROR: 'http://127.0.0.1:9' },
    message: /^cannot create directory \/proc\/clip-bench-xdg\/clip-bench\/datasets\/mnist: \/proc does not allow creating clip-bench-xdg \(ENOENT\)$/,
  },
  { name: '--dataset-root FILE', args: (t) => zs(t, '--dataset-root', t.file), message: /^--dataset-root .*a-file\.txt: a file, not a directory$/ },
  { name: '--junit DIR', args: (t) => ['regress', '--baseline', baseline, '--results', baseline, '--junit', t.dir], message: /^--junit .*: a directory, not a file$/ },
  { name: 'regress --results on a missing folder', args: (t) => ['regress', '--baseline', baseline, '--results', path.join(t.dir, 'nope')], message: /^--results .*nope: no such directory/ },
  { name: '--model mini,mini', args: (t) => zs(t, '--model', 'mini,mini'), message: /^--model mini,mini: mini is listed twice$/ },
  { name: 'suite --model mini,mini', args: (t) => ['suite', '--model', 'mini,mini', '--dataset', 'fashion-mnist', '--cache-dir', t.cache, '--out', t.out, '--no-progress'], message: /^--model mini,mini: mini is listed twice$/ },
  {
    name: 'a single .onnx image model without --image-size',
    args: (t) => ['embed', '--model', tinyVision, '--cache-dir', t.cache, '--limit', '10', '--no-progress'],
    message: /vision_model\.onnx takes 16x16 images but its preprocessing makes 224x224 \(for a single \.onnx model pass --image-size 16/,
  },
  {
    name: 'a text model where the vision model should be',
    args: (t) => ['embed', '--model', tinyText, '--image-size', '16', '--cache-dir', t.cache, '--limit', '10', '--no-progress'],
    message: /text_model\.onnx is not an image model: its input 'input_ids' is int64/,
  },
  { name: 'an invalid config.json', args: (t) => zs(t, '--model', t.brokenConfigModel), message: /broken-config\/config\.json is not valid JSON/ },
  { name: '--image-std 0,0,0', args: (t) => ['embed', '--model', tinyVision, '--image-size', '16', '--image-std', '0,0,0', '--cache-dir', t.cache], message: /^--image-std 0,0,0: expected three positive numbers$/ },
  { name: '--val-fraction abc', args: (t) => lp(t, '--val-fraction', 'abc'), message: /^--val-fraction abc: expected a number between 0 and 1$/ },
  { name: '--one-shot-C abc', args: () => ['fewshot', '--one-shot-C', 'abc'], message: /^--one-shot-C abc: expected a number greater than 0$/ },
  {
    name: 'preprocess --out DIR',
    args: (t) => ['preprocess', path.join(repoRoot, 'test', 'fixtures', 'preprocess', 'china.jpg'), '--size', '32', '--out', t.outDirForPreprocess],
    message: /^--out .*tensor-dir: a directory, not a file$/,
    after: (t) => assert.deepEqual(fs.readdirSync(path.dirname(t.outDirForPreprocess)).filter((f) => f.includes('tmp')), [], 'no temp file left'),
  },
  { name: 'linear-probe --val-split test', args: (t) => lp(t, '--val-split', 'test'), message: /^--val-split test: training or choosing C on a test split overstates accuracy \(held out: test\); .*--allow-tuning-on-test/ },
  { name: 'linear-probe --train-split test', args: (t) => lp(t, '--train-split', 'test'), message: /^--train-split test: training or choosing C on a test split/ },
  { name: 'fewshot --train-split test --test-split test', args: (t) => ['fewshot', '--train-split', 'test', '--test-split', 'test', '--out', t.out], message: /^--train-split test: training or choosing C on a test split/ },
  {
    name: "linear-probe --dataset imagenet --train-split val (ImageNet's test split is val)",
    args: (t) => ['linear-probe', '--dataset', 'imagenet', '--train-split', 'val', '--out', t.out],
    message: /^--train-split val: training or choosing C on a test split overstates accuracy \(held out: test, val\)/,
  },
  { name: 'fewshot --train-split val --test-split val', args: (t) => ['fewshot', '--train-split', 'val', '--test-split', 'val', '--out', t.out], message: /^--train-split val: training or choosing C on a test split overstates accuracy \(held out: val, test\)/ },
];

test('user errors: exit 2, one line naming the flag or file, nothing written (table of cases)', async () => {
  const t = fixture();
  for (const c of CASES) {
    const r = await runCli(c.args(t), c.env);
    assert.equal(r.status, 2, `${c.name}: exit ${r.status}\n${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `${c.name}: one line on stderr, got:\n${r.stderr}`);
    assert.ok(lines[0].startsWith('clip-bench: '), `${c.name}: ${lines[0]}`);
    assert.match(lines[0].slice('clip-bench: '.length), c.message, c.name);
    assert.doesNotMatch(r.stderr, /internal error|\u001b|\ufffd/, c.name);
    assert.equal(fs.existsSync(path.join(t.out, 'zeroshot.csv')) || fs.existsSync(path.join(t.out, 'linear_probe.csv')), false, `${c.name}: no results`);
    c.after?.(t);
  }
});

test('bare clip-bench is a usage error: help on stderr, exit 2; --help is exit 0 on stdout', async () => {
  const bare = await runCli([]);
  assert.equal(bare.status, 2);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /^Usage: clip-bench /);
  const help = await runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: clip-bench /);
});

test('legal but meaningless input is accepted with a warning: --limit below the class count, a one-class folder', async () => {
  const t = fixture();
  const r = await runCli(zs(t, '--limit', '5'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: --limit 5 is smaller than the 10 classes of fashion-mnist\/test: 5 classes get no image in the subset/);

  const root = tmpDir('oneclass');
  fs.mkdirSync(path.join(root, 'test', 'cat'), { recursive: true });
  for (let i = 0; i < 3; i++) await sharp({ create: { width: 9 + i, height: 9, channels: 3, background: '#345' } }).png().toFile(path.join(root, 'test', 'cat', `${i}.png`));
  const one = await runCli(['embed', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', t.cache, '--no-progress']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stderr, /warning: imagefolder\/test holds images of one class only \(cat\): accuracy is 100% whatever the model/);
});

test('--allow-tuning-on-test runs, warns and marks the run config (tuned_on_test)', async () => {
  const t = fixture();
  const r = await runCli(lp(t, '--val-split', 'test', '--allow-tuning-on-test'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: --val-split test: tuning on the test split/);
  const doc = JSON.parse(fs.readFileSync(path.join(t.out, 'linear_probe.json'), 'utf8'));
  assert.deepEqual(doc.runs[0].config.tuned_on_test, ['--val-split test']);
  // an honest run records no mark
  const honest = await runCli(lp(t, '--out', path.join(t.dir, 'honest')));
  assert.equal(honest.status, 0, honest.stderr);
  const h = JSON.parse(fs.readFileSync(path.join(t.dir, 'honest', 'linear_probe.json'), 'utf8'));
  assert.equal(h.runs[0].config.tuned_on_test, undefined);
});

test('a failed run leaves resumable chunks; they are removed once the fixed files complete the same evaluation', async () => {
  const root = tmpDir('pileup');
  const cache = tmpDir('pileup-cache');
  for (const cls of ['a', 'b']) {
    fs.mkdirSync(path.join(root, 'test', cls), { recursive: true });
    for (let i = 0; i < 6; i++) await sharp({ create: { width: 10 + i, height: 9, channels: 3, background: cls === 'a' ? '#800' : '#080' } }).png().toFile(path.join(root, 'test', cls, `${i}.png`));
  }
  const bad = path.join(root, 'test', 'b', '5.png');
  const good = fs.readFileSync(bad);
  fs.writeFileSync(bad, good.subarray(0, 40));
  const args = ['embed', '--model', tiny, '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', cache, '--batch-size', '2', '--no-progress'];
  const failed = await runCli(args);
  assert.equal(failed.status, 2, failed.stderr);
  const ls = async () => (await runCli(['cache', 'ls', '--cache-dir', cache])).stdout.split('\n').filter((l) => / imagefolder /.test(l));
  assert.equal((await ls()).length, 1, 'the failed run left one incomplete entry');
  fs.writeFileSync(bad, good);
  const fixed = await runCli(args);
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.match(fixed.stderr, /removed 1 incomplete cache entry of imagefolder\/test made from earlier versions of its files/);
  assert.equal((await ls()).length, 1, 'only the complete entry is left');
});
