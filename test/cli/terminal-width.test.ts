// Every command's default output fits a terminal of 100 columns: the result tables, listings, the suite's progress
// and summary, the report's file list and skip notes, compare and regress (stdout and stderr alike). A line that
// is one path alone (embed's answer, report's file list) is printed whole, to paste: it is exempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';

test('no command prints a line longer than 100 columns', { timeout: 900_000 }, async () => {
  const t = fs.mkdtempSync('/tmp/cbw-');
  try {
    const env = { XDG_CACHE_HOME: path.join(t, 'x') };
    const r = path.join(t, 'r');
    const runs: string[][] = [
      ['zeroshot', '--limit', '200', '--out', r],
      ['linear-probe', '--limit', '300', '--out', r],
      ['fewshot', '--limit', '300', '--shots', '1,2', '--seeds', '2', '--out', r],
      ['suite', '--model', 'mini', '--dataset', 'fashion-mnist', '--limit', '200', '--shots', '1', '--seeds', '1', '--out', path.join(t, 's')],
      ['embed', '--limit', '200'],
      ['report', '--results', r, '--out', path.join(t, 'rep')],
      ['regress', '--baseline', r, '--results', r],
      ['compare', r, r],
      ['models'],
      ['datasets'],
      ['cache', 'ls'],
      ['tokenize', 'a photo of a cat.'],
    ];
    for (const args of runs) {
      const out = await runCli(args, env, t);
      assert.equal(out.status, 0, `${args.join(' ')}: ${out.stderr}`);
      for (const [stream, text] of [['stdout', out.stdout], ['stderr', out.stderr]] as const) {
        for (const line of text.split('\n')) {
          if (/^\/\S+$/.test(line)) continue;
          assert.ok([...line].length <= 100, `clip-bench ${args[0]} (${stream}), ${[...line].length} columns:\n${line}`);
        }
      }
    }
  } finally {
    fs.rmSync(t, { recursive: true, force: true });
  }
});
