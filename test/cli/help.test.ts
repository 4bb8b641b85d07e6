// Every --help page has real examples (each flag an example uses is one the command has), prints defaults as
// values, and fits 100 columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXAMPLES } from '../../src/cli/help.js';
import { runCli } from '../support/cli.js';

/** The commands `clip-bench --help` lists (commander's own `help` left out). */
async function commandNames(): Promise<string[]> {
  const r = await runCli(['--help']);
  const block = r.stdout.split('Commands:\n')[1]!;
  return block.split('\n').map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter((n): n is string => !!n && n !== 'help');
}

test('every command has two or three examples, each using only flags the command has', async () => {
  const names = await commandNames();
  assert.ok(names.length >= 13, names.join(' '));
  for (const name of names) {
    const list = EXAMPLES[name];
    assert.ok(list && list.length >= 2 && list.length <= 3, `${name}: ${list?.length ?? 0} examples`);
    const help = await runCli([name, '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /\nExamples:\n {2}clip-bench /, name);
    for (const [cmd] of list) {
      const words = cmd.split(/\s+/);
      // `cache ls ...`: the flags belong to the subcommand
      const sub = name === 'cache' ? [name, words[1]!] : [name];
      const page = (await runCli([...sub, '--help'])).stdout;
      for (const flag of words.filter((w) => w.startsWith('--'))) {
        assert.ok(new RegExp(`^ {2}(-\\w, )?${flag}\\b`, 'm').test(page), `${name}: example '${cmd}' uses ${flag}, which '${sub.join(' ')}' does not have`);
      }
    }
    for (const line of help.stdout.split('\n')) assert.ok([...line].length <= 100, `${name} --help: ${line}`);
    assert.doesNotMatch(help.stdout, /\(default: "?[\d.]+"\)|\(default: "|\(default: false\)/, `${name}: a default printed as a string or a switch's false`);
  }
});

test('--model and --dataset come first where a command has them', async () => {
  for (const name of ['zeroshot', 'linear-probe', 'fewshot', 'embed']) {
    const page = (await runCli([name, '--help'])).stdout;
    const opts = page.split('Options:\n')[1]!.split('\n').filter((l) => /^ {2}-/.test(l)).map((l) => l.trim().split(/\s/)[0]);
    assert.deepEqual(opts.slice(0, 2), ['--model', '--dataset'], name);
  }
});
