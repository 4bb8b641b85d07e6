// The README's sample outputs are what the tool prints: scripts/readme_samples.mjs runs each sample's command on
// the built-in model with a fresh cache and compares it with the block under its `<!-- sample: NAME -->` marker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';

test('the README sample outputs equal what the tool prints', { timeout: 600_000 }, async () => {
  const r = await new Promise<{ status: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'readme_samples.mjs'), '--check'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /README\.md: 2 samples are what the tool prints/);
});
