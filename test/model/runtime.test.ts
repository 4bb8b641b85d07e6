import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { openModel } from '../../src/model/resolve.js';
import { ClipTokenizer } from '../../src/model/tokenizer.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { CPU_DEVICE } from '../../src/model/device.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'models');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-model-'));

/** The deterministic test images of reference_outputs.json: ((n*7 + c*3 + y*5 + x) % 17 - 8) / 8. */
function testPixels(n: number, size: number): Float32Array {
  const px = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) px[((i * 3 + c) * size + y) * size + x] = (((i * 7 + c * 3 + y * 5 + x) % 17) - 8) / 8;
  return px;
}

async function directRun(file: string, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file);
  const out = await s.run(feeds);
  await s.release();
  return out[output].data as Float32Array;
}

for (const name of ['tiny-ids', 'tiny-ids-mask']) {
  test(`${name}: embeddings equal a direct onnxruntime run on the same tensors`, async () => {
    const dir = path.join(fixtures, name);
    const model = await openModel(dir, { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
    try {
      const texts = ['a dog', 'a photo of a tench.'];
      const { embeddings: text, dim } = await model.encodeTexts(texts);
      const tok = ClipTokenizer.fromModelDir(dir).tokenize(texts);
      const session = await ort.InferenceSession.create(path.join(dir, 'onnx', 'text_model.onnx'));
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', tok.ids, [2, 77]) };
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', tok.attentionMask, [2, 77]);
      assert.equal(session.inputNames.length, name === 'tiny-ids' ? 1 : 2, 'fixture signatures');
      const direct = (await session.run(feeds)).text_embeds.data as Float32Array;
      await session.release();
      assert.equal(dim, 16);
      assert.deepEqual(Array.from(text), Array.from(direct));

      const pixels = testPixels(2, 16);
      const image = await model.encodeImages(new Float32Array(pixels), 2);
      const directImage = await directRun(path.join(dir, 'onnx', 'vision_model.onnx'), { pixel_values: new ort.Tensor('float32', pixels, [2, 3, 16, 16]) }, 'image_embeds');
      assert.deepEqual(Array.from(image), Array.from(directImage));

      // and both agree with PyTorch (scripts/make_test_models.py) up to float rounding
      const ref = JSON.parse(readFileSync(path.join(fixtures, 'reference_outputs.json'), 'utf8'));
      const refText: number[][] = ref.models[name].text_embeds;
      const refImage: number[][] = ref.models[name].image_embeds;
      refText.flat().forEach((v, i) => assert.ok(Math.abs(v - text[i]) < 1e-4, `text ${i}: ${v} vs ${text[i]}`));
      refImage.flat().forEach((v, i) => assert.ok(Math.abs(v - image[i]) < 1e-4, `image ${i}: ${v} vs ${image[i]}`));
    } finally {
      await model.close();
    }
  });
}

test('--dtype picks the ONNX variant and changes the model identity', async () => {
  const dir = path.join(fixtures, 'tiny-ids');
  const fp32 = await openModel(dir, { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
  // the fixture has an fp16 image tower only: enough for a linear probe
  const fp16 = await openModel(dir, { dtype: 'fp16', device: CPU_DEVICE, threads: 1, imageOnly: true });
  try {
    assert.notEqual(fp32.identity, fp16.identity);
    assert.match(fp16.files.visionOnnx, /vision_model_fp16\.onnx$/);
    const pixels = testPixels(2, 16);
    const a = await fp32.encodeImages(new Float32Array(pixels), 2);
    const b = await fp16.encodeImages(new Float32Array(pixels), 2);
    const maxDiff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    assert.ok(maxDiff > 0 && maxDiff < 0.05, `fp16 differs a little from fp32 (max ${maxDiff})`);
  } finally {
    await fp32.close();
    await fp16.close();
  }
});

test('tokenize and preprocess commands', async () => {
  const vectors = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'tokenizer_test_vectors.json'), 'utf8')).vectors;
  const texts = vectors.filter((v: { text: string; clip_tokenize_77?: number[] }) => v.text.trim() !== '' && v.clip_tokenize_77).slice(0, 6);
  const r = await runCli(['tokenize', ...texts.map((v: { text: string }) => v.text)]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), texts.map((v: { clip_tokenize_77: number[] }) => v.clip_tokenize_77));

  const out = path.join(tmp(), 'fmnist.f32');
  const img = path.join(repoRoot, 'test', 'fixtures', 'preprocess', 'fmnist0_gray28.png');
  const p = await runCli(['preprocess', img, '--size', '32', '--out', out]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /shape \[3, 32, 32\]/);
  const ours = readFileSync(out);
  const expected = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'preprocess', 'fmnist0_gray28.png.32.f32'));
  assert.ok(ours.equals(expected), 'preprocess --size 32 reproduces torchvision byte for byte');
});

test('bad model input: one line on stderr, exit code 2', async () => {
  const broken = tmp();
  cpSync(path.join(fixtures, 'tiny-ids'), broken, { recursive: true });
  writeFileSync(path.join(broken, 'onnx', 'vision_model.onnx'), 'not an onnx file');
  const noPreproc = tmp();
  cpSync(path.join(fixtures, 'tiny-ids'), noPreproc, { recursive: true });
  rmSync(path.join(noPreproc, 'preprocessor_config.json'));
  const emptyCache = tmp();
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['embed', '--model', broken, '--limit', '10', '--cache-dir', tmp()], {}, /cannot load ONNX model .*vision_model\.onnx/],
    [['embed', '--model', noPreproc, '--limit', '10', '--cache-dir', tmp()], {}, /model file missing: .*preprocessor_config\.json/],
    [['zeroshot', '--model', 'ViT-Q/99', '--out', tmp()], {}, /--model ViT-Q\/99: unknown model alias/],
    [['tokenize', '--model', 'ViT-B/32', 'a dog'], { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: emptyCache }, /HF_HUB_OFFLINE is set and Xenova\/clip-vit-base-patch32@main is not in the cache/],
    [['embed', '--model', path.join(fixtures, 'tiny-ids'), '--dtype', 'q4', '--cache-dir', tmp()], {}, /model file missing: .*vision_model_q4\.onnx/],
    [['zeroshot', '--device', 'tpu'], {}, /--device tpu: expected auto, cpu, webgpu, cuda or cuda:N/],
    [['zeroshot', '--dataset-root', path.join(emptyCache, 'absent')], {}, /--dataset-root .*absent: no such directory/],
    // this onnxruntime-node is the CPU build (.npmrc skips the GPU download)
    [['embed', '--model', path.join(fixtures, 'tiny-ids'), '--device', 'cuda', '--cache-dir', tmp()], {}, /--device cuda: this onnxruntime-node has no CUDA execution provider: after npm ci run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install`/],
  ];
  for (const [args, env, message] of cases) {
    const r = await runCli(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], message);
  }
});
