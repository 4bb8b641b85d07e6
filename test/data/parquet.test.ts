import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { locateSplit } from '../../src/data/ensure.js';
import { getDataset } from '../../src/data/registry.js';
import { decodeImage } from '../../src/image/decode.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';
import { writeParquetDataset } from '../support/parquet-dataset.js';
import { colour, labelsOf } from '../support/wds-package.js';

const CLASSES = ['cat', 'dog', 'bird'];

/** 3 classes x 5 test rows in 2 shards (snappy, then zstd) of row groups of 4; PNG and JPEG rows alternate. */
async function small(dir: string, extra: Partial<Parameters<typeof writeParquetDataset>[1]> = {}): Promise<string> {
  return writeParquetDataset(dir, { classes: CLASSES, splits: { test: labelsOf(3, 5), train: labelsOf(3, 4) }, shardSize: 9, rowGroupSize: 4, ...extra });
}

test('parquet: a local folder in the datasets layout: labels and names from the ClassLabel, images decoded from the bytes, random access across row groups', async () => {
  const dir = await small(tmpDir('pq'));
  assert.deepEqual(fs.readdirSync(path.join(dir, 'data')).sort(), ['test-00000-of-00002.parquet', 'test-00001-of-00002.parquet', 'train-00000-of-00002.parquet', 'train-00001-of-00002.parquet']);
  const spec = getDataset('parquet');
  assert.equal(spec.isPresent(dir, 'test'), true);
  assert.equal(spec.isPresent(dir, 'val'), false);
  const src = await spec.open(dir, 'test');
  assert.equal(src.n, 15);
  assert.deepEqual([...src.labels], labelsOf(3, 5));
  assert.deepEqual(src.classes, CLASSES);
  // every image, read backwards (each row group read on demand), equals its bytes decoded directly
  for (let i = src.n - 1; i >= 0; i--) {
    const img = await src.load(i);
    assert.equal(img.width, 16 + (i % 3), src.describe(i));
    assert.equal(img.height, 16 + (i % 2));
    const c = colour(src.labels[i]!, 3);
    const px = [img.data[0]!, img.data[1]!, img.data[2]!];
    // PNG rows are exact, JPEG rows within a few levels
    for (const [k, v] of [c.r, c.g, c.b].entries()) assert.ok(Math.abs(px[k]! - v) <= (i % 2 ? 6 : 0), `${src.describe(i)}: ${px} vs ${JSON.stringify(c)}`);
  }
  const direct = await decodeImage(await sharp({ create: { width: 17, height: 17, channels: 3, background: colour(0, 3) } }).jpeg({ quality: 95 }).toBuffer());
  assert.deepEqual((await src.load(1)).data, direct.data);
  assert.match(src.describe(10), /test-00001-of-00002\.parquet#row1$/);
  // the fingerprint follows the content: the same files give the same, one changed byte another
  const again = await getDataset('parquet').open(dir, 'test');
  assert.equal(again.fingerprint, src.fingerprint);
  const copy = await small(tmpDir('pq'), { codec: () => 'ZSTD' });
  assert.notEqual((await getDataset('parquet').open(copy, 'test')).fingerprint, src.fingerprint);
});

test('parquet: a label column of another name (found as the only ClassLabel, or named with --label-column), and the faults: unknown column, truncated shard, missing split, missing shard', async () => {
  const dir = await writeParquetDataset(tmpDir('pq'), { classes: CLASSES, splits: { test: labelsOf(3, 2) }, labelColumn: 'common', imageColumn: 'picture', rowGroupSize: 2 });
  const src = await getDataset('parquet').open(dir, 'test');
  assert.deepEqual([...src.labels], labelsOf(3, 2));
  const named = await getDataset('parquet', { labelColumn: 'common', imageColumn: 'picture' }).open(dir, 'test');
  assert.equal(named.fingerprint, src.fingerprint);
  await assert.rejects(getDataset('parquet', { labelColumn: 'label' }).open(dir, 'test'), /^UserError: --label-column label: .*test-00000-of-00001\.parquet has no such column \(columns: picture, common\)$/);
  assert.throws(() => getDataset('cifar10', { labelColumn: 'x' }), /--label-column: cifar10 is not a parquet dataset/);
  // no ClassLabel names in the metadata
  const bare = await writeParquetDataset(tmpDir('pq'), { classes: CLASSES, splits: { test: [0, 1] }, noFeatures: true });
  await assert.rejects(getDataset('parquet').open(bare, 'test'), /test-00000-of-00001\.parquet: column 'label' is not a ClassLabel with names in the 'huggingface' metadata or the dataset card/);
  // ... the dataset card's YAML names them (as `datasets` writes it: names keyed by index)
  const card = ['---', 'dataset_info:', '  features:', '  - name: image', '    dtype: image', '  - name: label', '    dtype:', '      class_label:', '        names:', ...CLASSES.map((c, i) => `          '${i}': ${c}`), '  splits:', '  - name: test', '    num_examples: 2', '---', '# A card', ''];
  fs.writeFileSync(path.join(bare, 'README.md'), card.join('\n'));
  const carded = await getDataset('parquet').open(bare, 'test');
  assert.deepEqual(carded.classes, CLASSES);
  assert.deepEqual([...carded.labels], [0, 1]);
  // a missing split names the ones there are
  await assert.rejects(getDataset('parquet').open(dir, 'train'), /^UserError: parquet: no split 'train' in .* \(no train-00000-of-NNNNN\.parquet under data\/; it has 'test'\)$/);
  // a truncated shard: one line naming the file
  const cut = await small(tmpDir('pq'));
  const shard = path.join(cut, 'data', 'test-00001-of-00002.parquet');
  fs.truncateSync(shard, fs.statSync(shard).size - 100);
  const e = await getDataset('parquet').open(cut, 'test').then(() => null, (x: Error) => x);
  assert.ok(e && e.name === 'UserError', String(e));
  assert.match(e.message, /test-00001-of-00002\.parquet: not a readable parquet file \(.*\); a truncated download\? delete it to fetch it again$/);
  assert.equal(e.message.split('\n').length, 1);
  // a shard missing from the sequence
  fs.rmSync(shard);
  await assert.rejects(getDataset('parquet').open(cut, 'test'), /split 'test' lacks shard 1 of 2$/);
});

test('zeroshot --dataset hf:OWNER/NAME: listed through the hub API (paged), fetched into the Hugging Face cache, then offline; a static mirror without the API and a missing split are one-line errors', async () => {
  const dir = await small(tmpDir('pq-hub'));
  fs.writeFileSync(path.join(dir, 'README.md'), '---\nlicense: mit\n---\n# pets\n');
  const server = await startHubServer({ 'datasets/someone/pets': dir }, undefined, { treePageSize: 2 });
  const cache = tmpDir('pq-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache };
  const args = ['zeroshot', '--model', 'mini', '--dataset', 'hf:someone/pets', '--prompts', 'single', '--json', '--out', tmpDir('out')];
  try {
    const r = await runCli(args, env);
    assert.equal(r.status, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as { dataset: string; n_images: number }[];
    assert.equal(row!.dataset, 'hf:someone/pets');
    assert.equal(row!.n_images, 15);
    // the listing came in pages; only the test split's shards were fetched, into datasets--someone--pets
    assert.ok(server.requests.filter((q) => q.url === '/api/datasets/someone/pets/tree/main').length >= 2);
    assert.ok(server.requests.some((q) => q.url === '/datasets/someone/pets/resolve/main/data/test-00001-of-00002.parquet'));
    assert.ok(!server.requests.some((q) => q.url.includes('train-')));
    // and the dataset card, which names classes where the parquet metadata does not
    assert.ok(server.requests.some((q) => q.url === '/datasets/someone/pets/resolve/main/README.md'));
    const snap = path.join(cache, 'hub', 'datasets--someone--pets', 'snapshots');
    assert.equal(fs.readdirSync(snap).length, 1);
    const bad = await runCli(['zeroshot', '--model', 'mini', '--dataset', 'hf:someone/pets', '--split', 'val', '--out', tmpDir('out')], env);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /dataset someone\/pets@main has no split 'val' \(no data\/val-00000-of-NNNNN\.parquet; its splits: test, train\)/);
  } finally {
    await server.close();
  }
  const offline = await runCli(args, { ...env, HF_HUB_OFFLINE: '1' });
  assert.equal(offline.status, 0, offline.stderr);
  const staticServer = await startHubServer({ 'datasets/someone/pets': dir }, undefined, { mode: 'static' });
  try {
    const r = await runCli([...args.slice(0, 4), 'hf:someone/other', '--out', tmpDir('out')], { ...env, HF_ENDPOINT: staticServer.endpoint });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /dataset someone\/other@main has no classnames\.txt; nor can parquet shards be found: the hub lists no files there \(.* answers 404: no such repository, revision or folder, or a static mirror without the hub's API\)$/m);
  } finally {
    await staticServer.close();
  }
});

/** UCF101's layout: every frame of every video, `video_id`/`clip_id`/`frame` columns, frames of a video in order. */
function ucfFrames(nClasses: number, videosPerClass: number, framesOf: (v: number) => number) {
  const labels: number[] = [];
  const video: string[] = [];
  const clip: string[] = [];
  const frame: number[] = [];
  const middle: number[] = [];
  let v = 0;
  for (let c = 0; c < nClasses; c++) {
    for (let k = 0; k < videosPerClass; k++, v++) {
      const n = framesOf(v);
      middle.push(labels.length + Math.floor(n / 2));
      for (let f = 0; f < n; f++) {
        labels.push(c);
        video.push(`g${String(k + 1).padStart(2, '0')}`);
        clip.push('c01');
        frame.push(f);
      }
    }
  }
  return { labels, extra: { video_id: video, clip_id: clip, frame }, middle };
}

test('paper27: birdsnap and ucf101 from a hub mirror holding their parquet copies at the pinned revisions, run end to end by suites, the paper\'s names mapped onto the datasets\' by name', async () => {
  const birdsPaper = getDataset('birdsnap').classes;
  const ucfPaper = getDataset('ucf101').classes;
  assert.deepEqual([birdsPaper.length, ucfPaper.length], [500, 101]);
  // the copies name classes their own way (hyphens, no spaces) and in another order
  const birdNames = [...birdsPaper].reverse().map((c, i) => (i % 3 === 0 ? c.replaceAll(' ', '-') : c));
  const ucfNames = [...ucfPaper].reverse().map((c) => c.replaceAll(' ', ''));
  const pkgs = tmpDir('pq-paper');
  const birds = await writeParquetDataset(path.join(pkgs, 'birdsnap'), {
    classes: birdNames,
    labelColumn: 'common',
    // one image per class, and a second one of class 3 in train (row 500) that does not decode
    splits: { test: labelsOf(500, 1), train: [...labelsOf(500, 1), 3] },
    shardSize: 400,
    rowGroupSize: 50,
    broken: { train: [500] },
  });
  const testFrames = ucfFrames(101, 1, (v) => 3 + (v % 2));
  const trainFrames = ucfFrames(101, 2, (v) => 2 + (v % 3));
  const ucf = await writeParquetDataset(path.join(pkgs, 'ucf101'), {
    classes: ucfNames,
    splits: { test: testFrames.labels, train: trainFrames.labels },
    extra: { test: testFrames.extra, train: trainFrames.extra },
    shardSize: 200,
    rowGroupSize: 25,
  });
  // one middle frame per video, in file order
  const opened = await getDataset('ucf101').open(ucf, 'test');
  assert.equal(opened.n, 101);
  assert.deepEqual(Array.from({ length: opened.n }, (_, i) => opened.describe(i).replace(/.*test-0000(\d)-of-00002\.parquet#row(\d+)$/, (_m, s, r) => String(Number(s) * 200 + Number(r)))), testFrames.middle.map(String));
  assert.deepEqual([...opened.labels], Array.from({ length: 101 }, (_, i) => 100 - i));

  const server = await startHubServer(
    { 'datasets/isaacchung/birdsnap': birds, 'datasets/mteb/ucf101': ucf },
    undefined,
    { repoCommits: { 'datasets/isaacchung/birdsnap': 'fd23015508be94f0b5b59d61630e4ea2536509e4', 'datasets/mteb/ucf101': 'e0618988874f6ffbf90af69fa6dccecb9be3deb3' } },
  );
  const cache = tmpDir('pq-paper-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache };
  const out = tmpDir('pq-paper-out');
  try {
    const list = await runCli(['datasets', '--wide'], env);
    assert.equal(list.status, 0, list.stderr);
    const paperRows = list.stdout.split('\n').filter((l) => /^\S+\s+(hub|download|bundled|you provide)/.test(l));
    assert.match(list.stdout, /^birdsnap\s+hub isaacchung\/birdsnap@fd23015508be94f0b5b59d61630e4ea2536509e4 /m);
    assert.match(list.stdout, /^ucf101\s+hub mteb\/ucf101@e0618988874f6ffbf90af69fa6dccecb9be3deb3 /m);
    assert.match(list.stdout, /\n {2}ucf101: frames of mteb\/ucf101@e061898 .*the middle one by frame number/);
    assert.match(list.stdout, /\n {2}birdsnap: .*one train image does not decode \(MIEB drops it by index\)/);
    assert.ok(paperRows.length > 0);
    // the two are fetched from the mirror (each split, at the pinned revision) ...
    Object.assign(process.env, env);
    for (const name of ['birdsnap', 'ucf101']) for (const split of ['train', 'test']) await locateSplit(getDataset(name), undefined, split, { download: true });
    // ... then suites run them end to end without downloads: birdsnap's zero-shot, and one-shot few-shot of both (not
    // all of @paper27, nor every task: on the 2 shared cores of the test machine each of @paper27's 50 unavailable
    // steps takes seconds, birdsnap's 500-class zero-shot about a minute, ucf101's 48 x 101 prompts and its linear
    // probe's search for C minutes each)
    const zsRun = await runCli(['suite', '--model', 'mini', '--dataset', 'birdsnap', '--tasks', 'zeroshot', '--no-download', '--no-report', '--out', out], env);
    assert.equal(zsRun.status, 0, zsRun.stderr);
    assert.match(zsRun.stderr, /suite: 1 steps?: 1 computed, 0 reused, 0 skipped \(data not available\)/);
    const two = path.join(tmpDir('pq-suite'), 'two.txt');
    fs.writeFileSync(two, 'birdsnap\nucf101\n');
    const fsRun = await runCli(['suite', '--model', 'mini', '--dataset', `@${two}`, '--tasks', 'fewshot', '--shots', '1', '--seeds', '1', '--skip-bad-images', '--no-download', '--no-report', '--out', out], env);
    assert.equal(fsRun.status, 0, fsRun.stderr);
    assert.match(fsRun.stderr, /suite: 2 steps: 2 computed, 0 reused, 0 skipped \(data not available\), 0 not applicable, 0 failed/);
    // the train image that does not decode is left out, and said so
    assert.match(fsRun.stderr, /skipped 1 unreadable image\(s\) of birdsnap\/train, e\.g\. .*datasets--isaacchung--birdsnap\/snapshots\/fd23015508be94f0b5b59d61630e4ea2536509e4\/data\/train-00001-of-00002\.parquet#row100: cannot decode image/);
    const zs = JSON.parse(fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8')) as { rows: { dataset: string; n_images: number }[]; runs: { dataset: string; class_names: string[][] }[] };
    assert.deepEqual([...new Set(zs.rows.map((x) => `${x.dataset} ${x.n_images}`))], ['birdsnap 500']);
    assert.deepEqual(zs.runs.find((x) => x.dataset === 'birdsnap')!.class_names.map((c) => c[0]), birdsPaper);
    const few = JSON.parse(fs.readFileSync(path.join(out, 'fewshot.json'), 'utf8')) as { rows: { dataset: string; shots: number }[] };
    assert.deepEqual(few.rows.map((x) => `${x.dataset} ${x.shots}`).sort(), ['birdsnap 1', 'ucf101 1']);
    // only the pinned revisions were asked for
    assert.ok(server.requests.some((q) => q.url === '/api/datasets/isaacchung/birdsnap/tree/fd23015508be94f0b5b59d61630e4ea2536509e4'));
    assert.ok(server.requests.some((q) => q.url === '/datasets/mteb/ucf101/resolve/e0618988874f6ffbf90af69fa6dccecb9be3deb3/data/train-00003-of-00004.parquet'));
    assert.ok(!server.requests.some((q) => q.url.includes('/main')), 'no request for main');
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    await server.close();
  }
});

test('suite --dataset @paper27 against a mirror holding only birdsnap and ucf101: their zero-shot rows, every other dataset named once as not available (exit 0: nothing failed)', async () => {
  // zero-shot only: the full protocol's probes on ucf101 and birdsnap take minutes each on the test machine's 2 shared cores
  const pkgs = tmpDir('pq-p27');
  const birds = await writeParquetDataset(path.join(pkgs, 'birdsnap'), { classes: getDataset('birdsnap').classes, labelColumn: 'common', splits: { test: labelsOf(500, 1) }, shardSize: 500, rowGroupSize: 100 });
  const frames = ucfFrames(101, 1, () => 1);
  const ucf = await writeParquetDataset(path.join(pkgs, 'ucf101'), { classes: getDataset('ucf101').classes, splits: { test: frames.labels }, extra: { test: frames.extra }, shardSize: 101, rowGroupSize: 50 });
  const server = await startHubServer(
    { 'datasets/isaacchung/birdsnap': birds, 'datasets/mteb/ucf101': ucf },
    undefined,
    { repoCommits: { 'datasets/isaacchung/birdsnap': 'fd23015508be94f0b5b59d61630e4ea2536509e4', 'datasets/mteb/ucf101': 'e0618988874f6ffbf90af69fa6dccecb9be3deb3' } },
  );
  const cache = tmpDir('pq-p27-cache');
  // the built-in downloads ask the same server (which has none of them) instead of the publishers
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache, CLIP_BENCH_DATASET_MIRROR: `${server.endpoint}/mirror` };
  const out = tmpDir('pq-p27-out');
  try {
    const r = await runCli(['suite', '--model', 'mini', '--dataset', '@paper27', '--tasks', 'zeroshot', '--no-report', '--out', out], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /suite: 27 steps: 2 computed, 0 reused, 25 skipped \(data not available\), 0 not applicable, 0 failed/);
    const zs = JSON.parse(fs.readFileSync(path.join(out, 'zeroshot.json'), 'utf8')) as { rows: { dataset: string; prompts: string; n_images: number }[] };
    assert.deepEqual(zs.rows.map((x) => `${x.dataset} ${x.prompts} ${x.n_images}`), ['birdsnap', 'ucf101'].flatMap((d) => ['contextless', 'single', 'ensemble'].map((p) => `${d} ${p} ${d === 'birdsnap' ? 500 : 101}`)));
    const named = [...r.stderr.matchAll(/^ {2}not available: (\S+) \(1 step\): /gm)].map((m) => m[1]);
    assert.equal(named.length, 25);
    assert.equal(new Set(named).size, 25, 'each dataset once');
    for (const d of ['cifar10', 'food101', 'imagenet', 'kinetics700', 'hateful_memes']) assert.ok(named.includes(d), d);
  } finally {
    await server.close();
  }
});

test('suite: a dataset not available is checked once per run (every task, every model), and named once', async () => {
  const server = await startHubServer({});
  const cache = tmpDir('pq-once-cache');
  const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: path.join(cache, 'hub'), XDG_CACHE_HOME: cache, CLIP_BENCH_DATASET_MIRROR: `${server.endpoint}/mirror` };
  try {
    const tiny = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
    const r = await runCli(['suite', '--model', `mini,${tiny}`, '--dataset', 'food101,cifar10', '--out', tmpDir('pq-once-out')], env);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /suite: 12 steps: 0 computed, 0 reused, 12 skipped \(data not available\), 0 not applicable, 0 failed/);
    assert.match(r.stderr, /^ {2}not available: food101 \(6 steps\): food101: dataset clip-benchmark\/wds_food101@main has no classnames\.txt/m);
    assert.match(r.stderr, /^ {2}not available: cifar10 \(6 steps\): download of .*\/mirror\/cifar10\/cifar-10-binary\.tar\.gz failed: HTTP 404/m);
    // one look at the hub and one at the mirror
    assert.equal(server.requests.filter((q) => q.url.includes('wds_food101')).length, 1);
    assert.equal(server.requests.filter((q) => q.url.includes('/mirror/cifar10/')).length, 1);
    // nothing evaluated: one summary, exit 1, no report about a flag the user never passed
    assert.match(r.stderr, /\nsuite: nothing evaluated \(2 datasets not available\)/);
    assert.doesNotMatch(r.stderr, /--results/);
  } finally {
    await server.close();
  }
});
