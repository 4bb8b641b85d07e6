import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';

test('compare: an empty folder is "a folder without results", not "no such folder"; rows without a partner are said to be left out', async () => {
  const cache = tmpDir('cmp-in-cache');
  const a = tmpDir('cmp-in-a');
  const b = tmpDir('cmp-in-b');
  const common = ['--limit', '100', '--cache-dir', cache, '--no-progress'];
  for (const [out, prompts] of [[a, 'contextless,single'], [b, 'single']] as const) {
    const r = await runCli(['zeroshot', '--prompts', prompts, '--out', out, ...common]);
    assert.equal(r.status, 0, r.stderr);
  }
  const r = await runCli(['compare', a, b, '--wide']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /zeroshot\s+fashion-mnist\/test\/single\s+mini\[fp32\]\s+mini\[fp32\]\s+100\s/);
  assert.doesNotMatch(r.stdout, /contextless/);
  assert.equal(r.stderr, `compare: 1 row of A (${a}) matches no row of B, left out: zeroshot fashion-mnist/test/contextless\n`);
  const back = await runCli(['compare', b, a]);
  assert.equal(back.status, 0, back.stderr);
  assert.match(back.stderr, /^compare: 1 row of B \(.*\) matches no row of A, left out: zeroshot fashion-mnist\/test\/contextless\n$/);

  const empty = tmpDir('cmp-in-empty');
  const e = await runCli(['compare', empty, b, '--results', path.join(empty, 'none')]);
  assert.equal(e.status, 2);
  assert.equal(e.stderr.trim(), `clip-bench: A ${empty}: a folder without results (none of zeroshot.json, linear_probe.json, fewshot.json in it)`);
  const missing = await runCli(['compare', path.join(empty, 'nope'), b, '--results', path.join(empty, 'none')]);
  assert.match(missing.stderr, /A .*nope: neither a results folder nor a model of --results .*none \(no such folder\)/);
  const withResults = await runCli(['compare', path.join(empty, 'nope'), b, '--results', empty]);
  assert.match(withResults.stderr, /A .*nope: neither a results folder nor a model of --results .* \(a folder without results\)/);
});
