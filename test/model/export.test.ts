import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openModel } from '../../src/model/resolve.js';
import { CPU_DEVICE } from '../../src/model/device.js';
import type { ImageFeatures } from '../../src/model/towers.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

// Fixtures by scripts/make_export_fixtures.py from the repository's own PyTorch reference CLIP (ref-tv):
// ref-tv-export: scripts/export_model.py --clip-bench-ref (towers with image_embeds + pooler_output), whose
// export_check.json holds the sample pixels, texts and PyTorch's outputs; ref-tv-combined: the same model in optimum's
// one-graph layout (model.onnx, L2-normalised embeds and logits). ref-tv itself outputs image_embeds only.
const models = path.join(repoRoot, 'test', 'fixtures', 'models');
const check = JSON.parse(readFileSync(path.join(models, 'ref-tv-export', 'export_check.json'), 'utf8')) as {
  texts: string[];
  pixel_values: number[];
  pixel_values_shape: number[];
  image_embeds: number[][];
  pooler_output: number[][];
  text_embeds: number[][];
  input_ids: number[][];
};

function maxAbsDiff(got: Float32Array, want: number[][]): number {
  const flat = want.flat();
  assert.equal(got.length, flat.length);
  return flat.reduce((m, v, i) => Math.max(m, Math.abs(got[i]! - v)), 0);
}

async function imageFeatures(model: string, features: ImageFeatures): Promise<Float32Array> {
  const m = await openModel(path.join(models, model), { dtype: 'fp32', device: CPU_DEVICE, threads: 1, features, imageOnly: true });
  try {
    return await m.encodeImages(Float32Array.from(check.pixel_values), check.pixel_values_shape[0]!);
  } finally {
    await m.close();
  }
}

test('an export of the project\'s PyTorch CLIP round-trips: ONNX embeddings and pooled features equal PyTorch\'s within 1e-5', async () => {
  assert.ok(maxAbsDiff(await imageFeatures('ref-tv-export', 'embedding'), check.image_embeds) < 1e-5);
  assert.ok(maxAbsDiff(await imageFeatures('ref-tv-export', 'pre-projection'), check.pooler_output) < 1e-5);
  const m = await openModel(path.join(models, 'ref-tv-export'), { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
  try {
    // the texts include unicode and one longer than the context (truncated): clip-bench's tokens feed the same graph
    const t = await m.encodeTexts(check.texts);
    assert.ok(maxAbsDiff(t.embeddings, check.text_embeds) < 1e-5);
  } finally {
    await m.close();
  }
});

test('--features pre-projection on an existing export (image_embeds only) gives the pooled features PyTorch computes', async () => {
  const pooled = await imageFeatures('ref-tv', 'pre-projection');
  assert.equal(pooled.length, check.pooler_output.flat().length);
  assert.ok(maxAbsDiff(pooled, check.pooler_output) < 1e-5);
  // and they are not the embedding
  assert.ok(maxAbsDiff(await imageFeatures('ref-tv', 'embedding'), check.image_embeds) < 1e-5);
  // optimum's combined graph: the same, from the image tower cut out of it
  assert.ok(maxAbsDiff(await imageFeatures('ref-tv-combined', 'pre-projection'), check.pooler_output) < 1e-5);
  assert.ok(maxAbsDiff(await imageFeatures('ref-tv-combined', 'embedding'), check.image_embeds) < 1e-5);
});

test('the exported model and the optimum combined model give the same zero-shot and linear-probe rows as the original split towers', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-export-'));
  try {
    const rows = async (cmd: string, model: string, extra: string[] = []) => {
      const r = await runCli([cmd, '--model', path.join(models, model), '--dataset', 'fashion-mnist', '--limit', '100', '--json', '--no-progress',
        '--out', path.join(dir, model, cmd), '--cache-dir', path.join(dir, 'cache'), ...extra]);
      assert.equal(r.status, 0, r.stderr);
      // the model's name and file digest differ by design; every number must not
      return (JSON.parse(r.stdout) as Record<string, unknown>[]).map(({ model: _m, model_digest: _d, seconds: _s, ...rest }) => rest);
    };
    const zs = await rows('zeroshot', 'ref-tv');
    assert.deepEqual(await rows('zeroshot', 'ref-tv-export'), zs);
    assert.deepEqual(await rows('zeroshot', 'ref-tv-combined'), zs);
    const lp = await rows('linear-probe', 'ref-tv', ['--features', 'pre-projection']);
    assert.equal(lp[0]!.features, 'pre-projection');
    assert.deepEqual(await rows('linear-probe', 'ref-tv-combined', ['--features', 'pre-projection']), lp);
    assert.deepEqual(await rows('linear-probe', 'ref-tv-export', ['--features', 'pre-projection']), lp);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--features: the old transform values point to --transform; zero-shot is refused with pre-projection features', async () => {
  const r = await runCli(['linear-probe', '--features', 'standardize']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--features standardize: the feature transform is --transform standardize now/);
  const f = await runCli(['fewshot', '--with-zeroshot', '--features', 'pre-projection', '--limit', '20', '--no-progress', '--cache-dir', mkdtempSync(path.join(os.tmpdir(), 'clip-bench-fz-'))]);
  assert.equal(f.status, 2, f.stderr);
  assert.match(f.stderr, /--with-zeroshot: zero-shot needs the embedding/);
});

test('scripts/export_model.py re-exports the reference model and prints its self-check', (t) => {
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8' }).status !== 0) {
    // CI installs them and insists (.ci/run): there the round trip must run
    assert.ok(!process.env.CLIP_BENCH_REQUIRE_TORCH, 'CLIP_BENCH_REQUIRE_TORCH is set but python3 cannot import torch, torchvision and onnx');
    t.skip('python3 with torch, torchvision and onnx is not installed');
    return;
  }
  const out = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-exporter-'));
  try {
    const r = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'scripts', 'export_model.py'), '--clip-bench-ref', path.join(models, 'ref-tv'), '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /largest \|ONNX - PyTorch\|:\n {2}image_embeds +\d\.\d\de-0[6-9] {2}ok\n {2}pooler_output +\d\.\d\de-0[6-9] {2}ok\n {2}text_embeds +\d\.\d\de-0[6-9] {2}ok/);
    const fresh = JSON.parse(readFileSync(path.join(out, 'export_check.json'), 'utf8'));
    assert.deepEqual(fresh.image_embeds, check.image_embeds);
    // the export is deterministic: the same graph, byte for byte
    assert.ok(readFileSync(path.join(out, 'onnx', 'vision_model.onnx')).equals(readFileSync(path.join(models, 'ref-tv-export', 'onnx', 'vision_model.onnx'))));
    assert.deepEqual(fresh.input_ids, check.input_ids);
    assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'preprocessor_config.json'), 'utf8')), JSON.parse(readFileSync(path.join(models, 'ref-tv-export', 'preprocessor_config.json'), 'utf8')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
