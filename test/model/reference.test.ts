import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';

const ref = path.join(repoRoot, 'test', 'fixtures', 'reference');

// ref-tv was built by scripts/make_reference_model.py from torchvision's VisionTransformer and torch's
// TransformerEncoder, with an input_ids + attention_mask text signature and a tokenizer.json; the expected numbers
// come from scripts/reference_zeroshot.py (PIL + torchvision preprocessing, OpenAI's tokenizer algorithm, PyTorch).
test('zero-shot on a model the built-in pipeline did not make matches the Python reference within 0.3 points', async () => {
  const expected = JSON.parse(readFileSync(path.join(ref, 'zeroshot_ref-tv.json'), 'utf8'));
  const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'clip-bench-ref-'));
  const r = await runCli([
    'zeroshot',
    '--model', path.join(repoRoot, 'test', 'fixtures', 'models', 'ref-tv'),
    '--classnames', path.join(ref, 'classnames.txt'),
    '--templates', path.join(ref, 'templates80.json'),
    '--json', '--out', tmp(), '--cache-dir', tmp(),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.n_images, expected.n_images);
    const diff = Math.abs(row.top1 - expected.top1[row.prompts]);
    assert.ok(diff <= 0.3, `${row.prompts}: ours ${row.top1.toFixed(2)} vs reference ${expected.top1[row.prompts]} (${diff.toFixed(2)} points)`);
  }
});
