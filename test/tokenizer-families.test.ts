import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openModel } from '../src/model/resolve.js';
import { CPU_DEVICE } from '../src/model/device.js';
import { repoRoot } from './helpers.js';
import { runCli } from './fixtures/cli.js';

// tiny-siglip (scripts/make_siglip_fixture.py): a SentencePiece (Unigram) tokenizer.json in the structure of
// Hugging Face's conversions, a text tower over input_ids alone pooled at the last of 64 positions (as SigLIP's),
// and the ids of a reference tokenizer (normalise, Metaspace, Unigram Viterbi, </s>, padding with </s> to 64).
const dir = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-siglip');
const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { texts: string[]; input_ids: number[][]; text_embeds: number[][] };

test('a SigLIP-style tokenizer.json: ids equal the reference on hard text (spaces and case, unicode and unknowns, a text over 64 tokens, padding)', async () => {
  const r = await runCli(['tokenize', '--model', dir, ...ref.texts]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as number[][];
  assert.deepEqual(rows, ref.input_ids);
  assert.ok(rows.every((row) => row.length === 64));
  // the long text is cut to 63 tokens and keeps </s> (1) last; the others end in </s> then </s> padding
  assert.equal(rows[3]![63], 1);
  assert.deepEqual(rows[0]!.slice(0, 7), [3, 4, 5, 3, 7, 92, 1]);
});

test('a SigLIP-style model evaluates: its text embeddings are PyTorch\'s of the reference ids, and zero-shot runs', async () => {
  const m = await openModel(dir, { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
  try {
    const e = await m.encodeTexts(ref.texts);
    const diff = ref.text_embeds.flat().reduce((d, v, i) => Math.max(d, Math.abs(v - e.embeddings[i]!)), 0);
    assert.ok(diff < 1e-5, `largest difference ${diff}`);
  } finally {
    await m.close();
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-siglip-'));
  try {
    const z = await runCli(['zeroshot', '--model', dir, '--dataset', 'fashion-mnist', '--limit', '50', '--prompts', 'single', '--json', '--no-progress', '--out', tmp, '--cache-dir', tmp]);
    assert.equal(z.status, 0, z.stderr);
    const rows = JSON.parse(z.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].n_images, 50);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
