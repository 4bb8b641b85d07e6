import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, spawnCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';
import { labelsOf, writeWdsPackage } from '../support/wds-package.js';

/** The suite's flags in these tests: the built-in model, small probes, a tenth of Fashion-MNIST. */
const SMALL = ['--model', 'mini', '--limit', '100', '--shots', '1,2', '--seeds', '2', '--no-report'];

/** An isolated user cache (datasets, embeddings, the hub) and a hub mirror serving `repos`. */
async function environment(repos: Record<string, string>) {
  const cache = tmpDir('suite-cache');
  const server = await startHubServer(repos, undefined, { mode: 'static' });
  const env = { XDG_CACHE_HOME: cache, HF_HUB_CACHE: path.join(cache, 'hub'), HF_ENDPOINT: server.endpoint, HF_HOME: path.join(cache, 'hf') };
  return { cache, server, env, datasetDir: (name: string) => path.join(cache, 'clip-bench', 'datasets', name) };
}

/** Run the CLI until a stderr line matches `until`, then SIGKILL it. */
async function runUntilKilled(args: string[], env: NodeJS.ProcessEnv, until: RegExp): Promise<{ stderr: string; signal: NodeJS.Signals | null }> {
  const run = spawnCli(args, env);
  let seen = '';
  run.child.stderr!.on('data', (d: string) => {
    seen += d;
    if (until.test(seen)) run.child.kill('SIGKILL');
  });
  const { stderr, signal } = await run.done;
  return { stderr, signal };
}

const stepLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('suite ['));
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

test('suite: three datasets (bundled, a local package, a hub package), killed part-way and resumed without redoing a step', async () => {
  const pkgs = tmpDir('suite-pkgs');
  const pcam = await writeWdsPackage(path.join(pkgs, 'pcam'), {
    classes: ['lymph node', 'lymph node containing metastatic tumor tissue'],
    splits: { train: labelsOf(2, 10), test: labelsOf(2, 4) },
    shardSize: 7,
  });
  const { server, env, datasetDir } = await environment({ 'datasets/clip-benchmark/wds_vtab-pcam': pcam });
  try {
    await writeWdsPackage(datasetDir('rendered_sst2'), { classes: ['negative', 'positive'], splits: { train: labelsOf(2, 10), test: labelsOf(2, 4) } });
    const list = path.join(tmpDir('suite-list'), 'suite.txt');
    fs.writeFileSync(list, '# a small suite\nfashion-mnist\nrendered_sst2\npcam\n');
    const out = tmpDir('suite-out');
    const args = ['suite', ...SMALL, '--dataset', `@${list}`, '--out', out];

    const killed = await runUntilKilled(args, env, /suite \[4\/9\][^\n]*\n/);
    assert.equal(killed.signal, 'SIGKILL');
    const before = stepLines(killed.stderr);
    assert.equal(before.length, 4, killed.stderr);
    assert.match(before[0]!, /^suite \[1\/9\] mini x fashion-mnist x zeroshot: done \(3 rows\)/);
    assert.match(before[3]!, /^suite \[4\/9\] mini x rendered_sst2 x zeroshot: done \(3 rows\)/);
    const zsBefore = readJson(path.join(out, 'zeroshot.json'));

    const rerun = await runCli(args, env);
    assert.equal(rerun.status, 0, rerun.stderr);
    const after = stepLines(rerun.stderr);
    assert.equal(after.length, 9, rerun.stderr);
    // the four finished steps are reused, the rest computed
    for (const l of after.slice(0, 4)) assert.match(l, /: reused \(results with the same configuration\)/);
    for (const l of after.slice(4)) assert.match(l, /: done \(\d+ rows?\)/);
    assert.match(after[8]!, /^suite \[9\/9\] mini x pcam x fewshot: done \(2 rows\)/);
    assert.match(rerun.stderr, /suite: 9 steps: 5 computed, 4 reused, 0 skipped \(data not available\), 0 not applicable, 0 failed/);

    // every row is there, and the runs of the steps finished before the kill were not rewritten
    const zs = readJson(path.join(out, 'zeroshot.json'));
    assert.deepEqual(zs.rows.map((r: { dataset: string; prompts: string }) => `${r.dataset}/${r.prompts}`).sort(), ['fashion-mnist', 'pcam', 'rendered_sst2'].flatMap((d) => ['contextless', 'ensemble', 'single'].map((p) => `${d}/${p}`)));
    const stamp = (doc: { runs: { dataset: string; timestamp: string }[] }, d: string) => doc.runs.find((r) => r.dataset === d)!.timestamp;
    assert.equal(stamp(zs, 'fashion-mnist'), stamp(zsBefore, 'fashion-mnist'));
    assert.equal(stamp(zs, 'rendered_sst2'), stamp(zsBefore, 'rendered_sst2'));
    assert.deepEqual(readJson(path.join(out, 'linear_probe.json')).rows.map((r: { dataset: string }) => r.dataset).sort(), ['fashion-mnist', 'pcam', 'rendered_sst2']);
    const fs6 = readJson(path.join(out, 'fewshot.json')).rows as { dataset: string; shots: number }[];
    assert.equal(fs6.length, 6);
    // pcam came from the hub mirror, split by split
    assert.ok(server.requests.some((r) => r.url === '/datasets/clip-benchmark/wds_vtab-pcam/resolve/main/train/0.tar'));

    // a third run computes nothing; --force redoes one task
    const third = await runCli(args, env);
    assert.equal(third.status, 0, third.stderr);
    assert.match(third.stderr, /9 steps: 0 computed, 9 reused/);
    const forced = await runCli([...args, '--tasks', 'zeroshot', '--force'], env);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stderr, /3 steps: 3 computed, 0 reused/);
  } finally {
    await server.close();
  }
});

test('suite: an unavailable dataset is skipped and listed, a failing one does not stop the others (exit 1), a task without a train split is not run', async () => {
  const { server, env, datasetDir } = await environment({});
  try {
    // hateful_memes: a package whose shard is cut short
    const memes = await writeWdsPackage(datasetDir('hateful_memes'), { classes: ['meme', 'hatespeech meme'], splits: { test: labelsOf(2, 3) } });
    const shard = path.join(memes, 'test', '0.tar');
    fs.truncateSync(shard, 1000);
    await writeWdsPackage(datasetDir('rendered_sst2'), { classes: ['negative', 'positive'], splits: { test: labelsOf(2, 3) } });
    // sun397's package has no train split: its probes are not run (the hub mirror has no sun397: not available)
    const out = tmpDir('suite-out');
    const r = await runCli(['suite', ...SMALL, '--dataset', 'kinetics700,hateful_memes,rendered_sst2,sun397', '--tasks', 'zeroshot,linear-probe', '--out', out], env);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /suite: 8 steps: 1 computed, 0 reused, 5 skipped \(data not available\), 1 not applicable, 1 failed/);
    // each dataset that is not available is named once, with the steps it stopped (issue 24)
    assert.match(r.stderr, /\n {2}not available: kinetics700 \(2 steps\): kinetics700: split 'test' not found/);
    assert.match(r.stderr, /\n {2}not available: sun397 \(1 step\): /);
    assert.match(r.stderr, /\n {2}not available: rendered_sst2 \(1 step\): rendered_sst2: /);
    assert.match(r.stderr, /\n {2}not available: hateful_memes \(1 step\): hateful_memes: split 'train' not found/);
    assert.equal(r.stderr.match(/^ {2}not available: /gm)!.length, 4);
    assert.match(r.stderr, /\n {2}failed: mini x hateful_memes x zeroshot: .*0\.tar/);
    assert.match(r.stderr, /\n {2}not run: mini x sun397 x linear-probe: sun397 has no train split/);
    assert.deepEqual(readJson(path.join(out, 'zeroshot.json')).rows.map((x: { dataset: string }) => x.dataset), ['rendered_sst2', 'rendered_sst2', 'rendered_sst2']);
  } finally {
    await server.close();
  }
});

test('suite --dataset-root: DIR/{dataset} (a folder per dataset, the others from their default source) and NAME=DIR entries; a plain folder for several datasets, an unknown name, a missing folder: exit 2', async () => {
  const { server, env } = await environment({});
  try {
    const data = tmpDir('suite-roots');
    await writeWdsPackage(path.join(data, 'rendered_sst2'), { classes: ['negative', 'positive'], splits: { test: labelsOf(2, 3) } });
    const memes = await writeWdsPackage(path.join(tmpDir('suite-memes'), 'elsewhere'), { classes: ['meme', 'hatespeech meme'], splits: { test: labelsOf(2, 2) } });
    const out = tmpDir('suite-roots-out');
    const args = (root: string, o = out) => ['suite', ...SMALL, '--dataset', 'rendered_sst2,hateful_memes,kinetics700', '--tasks', 'zeroshot', '--dataset-root', root, '--out', o];
    const r = await runCli(args(`hateful_memes=${memes},${data}/{dataset}`), env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /suite: 3 steps: 2 computed, 0 reused, 1 skipped \(data not available\)/);
    // kinetics700 has no folder under the template: its default place, where it is not
    assert.match(r.stderr, /\n {2}not available: kinetics700 \(1 step\): kinetics700: split 'test' not found: .*clip-bench\/datasets\/kinetics700\/test/);
    const rows = readJson(path.join(out, 'zeroshot.json')).rows as { dataset: string; n_images: number }[];
    assert.deepEqual([...new Set(rows.map((x) => `${x.dataset} ${x.n_images}`))].sort(), ['hateful_memes 4', 'rendered_sst2 6']);
    // mistakes are found before anything runs: one line, exit 2
    for (const [root, message] of [
      [data, /^clip-bench: --dataset-root .*: one folder for 3 datasets: use .*\/\{dataset\} \(a folder per dataset\) or NAME=DIR,\.\.\.$/],
      [`hatefull_memes=${memes}`, /^clip-bench: unknown dataset 'hatefull_memes'.*did you mean/],
      [`hateful_memes=${path.join(data, 'nope')}`, /^clip-bench: --dataset-root .*: .*nope: no such directory$/],
      [`${data}/{dataset},${data}`, /^clip-bench: --dataset-root .*: more than one folder without a dataset name/],
    ] as const) {
      const bad = await runCli(args(root, tmpDir('suite-roots-bad')), env);
      assert.equal(bad.status, 2, `${root}: ${bad.stderr}`);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.match(bad.stderr.trim(), message);
    }
  } finally {
    await server.close();
  }
});
