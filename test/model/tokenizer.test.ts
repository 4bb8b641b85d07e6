import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { repoRoot } from '../support/helpers.js';
import { ClipTokenizer, htmlUnescape, cleanText } from '../../src/model/tokenizer.js';
import { UserError } from '../../src/errors.js';

const BPE = path.join(repoRoot, 'models/mini/bpe_simple_vocab_16e6.txt.gz');
interface Vector { text: string; ids: number[]; clip_tokenize_77: number[]; clip_tokenize_77_truncate_true?: number[] }
const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/tokenizer_test_vectors.json'), 'utf8')) as {
  vocab_size: number; sot_id: number; eot_id: number; context_length: number; vectors: Vector[];
};

const bpeTok = ClipTokenizer.fromBpeFile(BPE);

function row(r: { ids: BigInt64Array; contextLength: number }, i: number): number[] {
  return Array.from(r.ids.subarray(i * r.contextLength, (i + 1) * r.contextLength), Number);
}

/** Every golden vector: encode, the clip.tokenize row, its mask, and truncation. */
function checkVectors(tok: ClipTokenizer): void {
  assert.equal(tok.sotId, fixture.sot_id);
  assert.equal(tok.eotId, fixture.eot_id);
  assert.equal(tok.vocabSize, fixture.vocab_size);
  const texts = fixture.vectors.map((v) => v.text);
  const out = tok.tokenize(texts);
  assert.equal(out.n, texts.length);
  assert.equal(out.contextLength, fixture.context_length);
  fixture.vectors.forEach((v, i) => {
    assert.deepEqual(tok.encode(v.text), v.ids, `encode(${JSON.stringify(v.text)})`);
    const expected = v.clip_tokenize_77_truncate_true ?? v.clip_tokenize_77;
    assert.deepEqual(row(out, i), expected, `tokenize(${JSON.stringify(v.text)})`);
    const used = Math.min(v.ids.length + 2, out.contextLength);
    const mask = Array.from(out.attentionMask.subarray(i * 77, (i + 1) * 77), Number);
    assert.deepEqual(mask, Array.from({ length: 77 }, (_, j) => (j < used ? 1 : 0)), `mask of ${JSON.stringify(v.text)}`);
  });
}

test('BPE file: every golden vector (encode, clip.tokenize row, mask)', () => {
  checkVectors(bpeTok);
});

test('truncation keeps EOT last; short context lengths', () => {
  const long = fixture.vectors.find((v) => v.clip_tokenize_77_truncate_true)!;
  const r = bpeTok.tokenize([long.text, 'a dog'], 5);
  assert.deepEqual(row(r, 0), [49406, ...long.ids.slice(0, 3), 49407]);
  assert.deepEqual(row(r, 1), [49406, 320, 1929, 49407, 0]);
  assert.deepEqual(Array.from(r.attentionMask, Number), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  assert.throws(() => bpeTok.tokenize(['x'], 1), RangeError);
  assert.equal(bpeTok.tokenize([]).ids.length, 0);
});

test('cleaning: entities, ftfy subset, whitespace, special tokens', () => {
  // Python's html.unescape behaviour (checked against CPython 3.11)
  assert.equal(htmlUnescape('&amp;amp; &lt &notit; &ampx &#65;&#x42; &#150; &#0; &#1; &bogus; &eacute'), '&amp; < ¬it; &x AB – \ufffd  &bogus; é');
  assert.equal(cleanText('  Ｈｅｌｌｏ\u3000“World”\u00a0 ﬁne  '), 'hello "world" fine');
  assert.equal(cleanText('P&EACUTE;REZ &amp;lt;'), 'pérez <'); // ftfy unescape + html.unescape twice
  assert.equal(cleanText('a\x00b\ufeffc\x1b[31md'), 'abcd');
  assert.equal(cleanText('e\u0301'), 'é'); // NFC
  assert.deepEqual(bpeTok.encode('<|startoftext|>a<|endoftext|>'), [49406, 320, 49407]);
  assert.deepEqual(bpeTok.encode('don\u2019t'), bpeTok.encode("don't"));
});

test('tokenizer.json built from the BPE file gives identical results', () => {
  const lines = zlib.gunzipSync(fs.readFileSync(BPE)).toString('utf8').split('\n').slice(1, 49152 - 256 - 2 + 1);
  const merges = lines.map((l) => l.split(' ') as [string, string]);
  // bytes_to_unicode() in simple_tokenizer.py's order
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.map((b) => String.fromCharCode(b));
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) cs.push(String.fromCharCode(256 + n++));
  const vocabList = [...cs, ...cs.map((c) => c + '</w>'), ...merges.map(([a, b]) => a + b)];
  const vocab = Object.fromEntries(vocabList.map((v, i) => [v, i]));
  const added = [
    { id: vocabList.length, content: '<|startoftext|>', special: true },
    { id: vocabList.length + 1, content: '<|endoftext|>', special: true },
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'));
  try {
    const asStrings = { added_tokens: added, model: { type: 'BPE', vocab, merges: merges.map((m) => m.join(' ')) } };
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(asStrings));
    checkVectors(ClipTokenizer.fromTokenizerJson(path.join(dir, 'tokenizer.json')));
    checkVectors(ClipTokenizer.fromModelDir(dir)); // prefers tokenizer.json

    const asPairs = { ...asStrings, model: { ...asStrings.model, merges } };
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(asPairs));
    checkVectors(ClipTokenizer.fromModelDir(dir));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fromModelDir falls back to the BPE file; missing/bad files -> UserError', () => {
  checkVectors(ClipTokenizer.fromModelDir(path.dirname(BPE)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-tok-'));
  try {
    assert.throws(() => ClipTokenizer.fromModelDir(dir), (e: unknown) => e instanceof UserError && e.message.includes(dir));
    const missing = path.join(dir, 'nope.txt.gz');
    assert.throws(() => ClipTokenizer.fromBpeFile(missing), (e: unknown) => e instanceof UserError && e.message.includes(missing));
    assert.throws(() => ClipTokenizer.fromTokenizerJson(path.join(dir, 'nope.json')), UserError);
    const short = path.join(dir, 'short.txt');
    fs.writeFileSync(short, '#version: 0.2\ni n\n');
    assert.throws(() => ClipTokenizer.fromBpeFile(short), (e: unknown) => e instanceof UserError && e.message.includes(short));
    const bad = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(bad, '{"model": {}}');
    assert.throws(() => ClipTokenizer.fromModelDir(dir), (e: unknown) => e instanceof UserError && e.message.includes(bad));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('speed: 80,000 prompt-like texts', () => {
  const texts: string[] = [];
  for (let t = 0; t < 80; t++) for (let c = 0; c < 1000; c++) texts.push(`a photo number ${t} of the class${c % 97} thing${c}.`);
  const start = performance.now();
  const r = ClipTokenizer.fromBpeFile(BPE).tokenize(texts);
  assert.equal(r.n, 80000);
  assert.ok(performance.now() - start < 20000, 'tokenizing 80k texts should take well under 20 s');
});
