import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openModel } from '../../src/model/resolve.js';
import { CPU_DEVICE } from '../../src/model/device.js';
import { textTokenizerFor } from '../../src/model/text-tokenizer.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

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

test('a Gemma-style tokenizer.json (SigLIP 2: byte-level fallback BPE, <bos> before the text): <bos> kept, bytes for unknown characters, truncation and padding to 64', () => {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const vocab: Record<string, number> = { '<pad>': 0, '<eos>': 1, '<bos>': 2, '<unk>': 3 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 4 + b;
  ['▁', 'a', 'c', 't', '▁a', '▁c', 'at', '▁cat'].forEach((p, i) => (vocab[p] = 260 + i));
  const json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<pad>'), special(1, '<eos>'), special(2, '<bos>'), special(3, '<unk>')],
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
    },
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: ['▁ a', '▁ c', 'a t', '▁c at'] },
  };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-gemma-'));
  try {
    writeFileSync(path.join(tmp, 'tokenizer.json'), JSON.stringify(json));
    writeFileSync(path.join(tmp, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'GemmaTokenizer', bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', unk_token: '<unk>' }));
    writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ model_type: 'siglip', text_config: { max_position_embeddings: 64 } }));
    const tok = textTokenizerFor(tmp, path.join(tmp, 'tokenizer.json'));
    const r = tok.tokenize(['a cat', 'a 東', 'a cat'.repeat(1) + ' a cat'.repeat(40)]);
    const row = (i: number) => Array.from(r.ids.subarray(i * 64, (i + 1) * 64), Number);
    // "a▁cat": merges ▁c, then at, then ▁cat (by rank)
    assert.deepEqual(row(0).slice(0, 4), [2, 261, 267, 0]);
    assert.equal(row(0).filter((x) => x === 0).length, 61);
    // 東 is not in the vocabulary: its three UTF-8 bytes E6 9D B1
    assert.deepEqual(row(1).slice(0, 6), [2, 261, 260, 4 + 0xe6, 4 + 0x9d, 4 + 0xb1]);
    // 82 text tokens ("a", then "▁cat", "▁a" ...) cut to 63 after <bos>: no padding, <bos> first
    assert.equal(row(2)[0], 2);
    assert.deepEqual(row(2).slice(1, 5), [261, 267, 264, 267]);
    assert.ok(!row(2).includes(0));
    assert.deepEqual(Array.from(r.attentionMask.subarray(0, 4), Number), [1, 1, 1, 0]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
