import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer } from '../support/hub-server.js';
import { diffResults, resultCsvs, SMALL_SUITE as SMALL, writeSuitePackages } from '../support/suite-results.js';

test('suite --shard: shards 1/2 and 2/2 as concurrent processes into one --out, then report = a single-process suite and report apart from timings', async () => {
  const cache = tmpDir('suite-shard-cache');
  const server = await startHubServer({}, undefined, { mode: 'static' });
  const env = { XDG_CACHE_HOME: cache, HF_HUB_CACHE: path.join(cache, 'hub'), HF_ENDPOINT: server.endpoint, HF_HOME: path.join(cache, 'hf') };
  try {
    await writeSuitePackages(cache);
    const single = tmpDir('suite-single');
    const one = await runCli(['suite', ...SMALL, '--out', single], env);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /suite: 4 steps: 4 computed/);

    const sharded = tmpDir('suite-sharded');
    const [s1, s2] = await Promise.all(['1/2', '2/2'].map((k) => runCli(['suite', ...SMALL, '--out', sharded, '--shard', k], env)));
    for (const s of [s1!, s2!]) {
      assert.equal(s.status, 0, s.stderr);
      assert.match(s.stderr, /suite: 2 steps: 2 computed/);
      assert.match(s.stderr, /writes no report: run `clip-bench report --results /);
    }
    // blocks of whole model x dataset groups: shard 1 has fashion-mnist's steps, shard 2 rendered_sst2's
    assert.match(s1!.stderr, /shard 1\/2 \(--shard 1\/2\): model x dataset groups 1-1 of 2, steps 1-2 of 4/);
    assert.match(s1!.stderr, /mini x fashion-mnist x fewshot: done/);
    assert.doesNotMatch(s1!.stderr, /rendered_sst2 x/);
    assert.match(s2!.stderr, /steps 3-4 of 4/);
    assert.doesNotMatch(s2!.stderr, /fashion-mnist x/);
    assert.ok(!fs.existsSync(path.join(sharded, 'report')), 'a shard wrote a report');

    const rep = await runCli(['report', '--results', sharded], env);
    assert.equal(rep.status, 0, rep.stderr);

    assert.ok([...resultCsvs(sharded).keys()].some((k) => k.startsWith('report')));
    assert.deepEqual(diffResults(single, sharded), []);
  } finally {
    await server.close();
  }
});
