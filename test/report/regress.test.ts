import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { compareTable, evaluationCommands, junitXml, loadBaseline } from '../../src/report/regress.js';
import { readResults, writeResults, type FewshotRow, type ZeroshotRow } from '../../src/results/index.js';
import { repoRoot } from '../support/helpers.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'report', 'results');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-regress-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const tmp = () => path.join(tmpRoot, `d${n++}`);

/** The real CLI once src/cli/commands.ts registers regress; until then a harness with the same exit codes. */
const helpText = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'clip-bench'), '--help'], { encoding: 'utf8' }).stdout ?? '';
const realCli = /\bregress\b/.test(helpText);
const entry = realCli ? path.join(repoRoot, 'bin', 'clip-bench') : path.join(repoRoot, 'test', 'support', 'cli-harness.mjs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [entry, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the fixture results as a baseline directory. */
function baselineCopy(): string {
  const dir = tmp();
  mkdirSync(dir, { recursive: true });
  for (const t of ['zeroshot', 'linear_probe', 'fewshot']) cpSync(path.join(fixture, `${t}.json`), path.join(dir, `${t}.json`));
  return dir;
}

describe(`regress (${realCli ? 'bin/clip-bench' : 'CLI harness: commands.ts does not register regress yet'})`, () => {
  it('passes on unchanged results and prints every row', () => {
    const base = baselineCopy();
    const r = cli('regress', '--baseline', base, '--results', fixture);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^table\s+identity\s+old\s+new\s+delta\s+status$/);
    assert.equal(lines.length, 2 + 11 + 6 + 18 + 1);
    assert.match(r.stdout, /zeroshot\s+ViT-B\/32 cifar10\/test\/ensemble\s+88\.30\s+88\.30\s+0\.00\s+ok/);
    assert.match(lines.at(-1)!, /35 ok, 0 DROP, 0 missing, 0 new -> PASS/);
  });

  it('fails with exit 1 and a table when a baseline row is above the current by more than the tolerance', () => {
    const base = baselineCopy();
    const doc = JSON.parse(readFileSync(path.join(base, 'zeroshot.json'), 'utf8'));
    const row = doc.rows.find((r: ZeroshotRow) => r.model === 'ViT-B/32' && r.dataset === 'cifar10' && r.prompts === 'ensemble');
    row.top1 += 0.6; // primary metric accuracy -> top1
    const row2 = doc.rows.find((r: ZeroshotRow) => r.model === 'ViT-B/32' && r.dataset === 'cifar10' && r.prompts === 'single');
    row2.top1 += 0.4; // within tolerance
    writeFileSync(path.join(base, 'zeroshot.json'), JSON.stringify(doc));
    const junit = path.join(tmpRoot, 'junit.xml');
    const r = cli('regress', '--baseline', base, '--results', fixture, '--junit', junit);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /zeroshot\s+ViT-B\/32 cifar10\/test\/ensemble\s+88\.90\s+88\.30\s+-0\.60\s+DROP/);
    assert.match(r.stdout, /zeroshot\s+ViT-B\/32 cifar10\/test\/single\s+85\.90\s+85\.50\s+-0\.40\s+ok/);
    assert.match(r.stdout, /1 DROP/);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuites name="clip-bench regress" tests="35" failures="1"/);
    assert.match(xml, /<testcase classname="zeroshot\.ViT-B\/32" name="cifar10\/test\/ensemble" time="0">\s*<failure type="DROP"/);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 35);
    // a wider tolerance or another metric passes
    assert.equal(cli('regress', '--baseline', base, '--results', fixture, '--tolerance', '1').code, 0);
    assert.equal(cli('regress', '--baseline', base, '--results', fixture, '--metric', 'top5').code, 0);
  });

  it('reports missing (exit 1) and new rows (exit 0) against a single-table baseline file', () => {
    const cur = tmp();
    const base = path.join(tmpRoot, 'fewshot-baseline.json');
    cpSync(path.join(fixture, 'fewshot.json'), base);
    const rows = readResults(fixture, 'fewshot')!.rows;
    writeResults(cur, 'fewshot', rows.filter((r) => !(r.model === 'mini' && r.shots === 4)), []);
    const r = cli('regress', '--baseline', base, '--results', cur);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /fewshot\s+mini cifar10\/4-shot\s+30\.00\s+missing/);
    const extra: FewshotRow = { ...rows[0], shots: 32 };
    writeResults(cur, 'fewshot', [rows.find((r) => r.model === 'mini' && r.shots === 4)!, extra], []);
    const r2 = cli('regress', '--baseline', base, '--results', cur);
    assert.equal(r2.code, 0, r2.stdout);
    assert.match(r2.stdout, /fewshot\s+ViT-B\/32 cifar10\/32-shot\s+40\.00\s+new/);
  });

  it('names the identity fields in which missing rows differ from new ones (a run on another subset or variant)', () => {
    const cur = tmp();
    const base = path.join(tmpRoot, 'zeroshot-subset-baseline.json');
    cpSync(path.join(fixture, 'zeroshot.json'), base);
    const rows = readResults(fixture, 'zeroshot')!.rows;
    const mine = rows.filter((r) => r.model === 'ViT-B/32' && r.dataset === 'cifar10');
    // the same evaluations on a --limit subset: every one missing and new, and the note says the subset is why
    writeResults(cur, 'zeroshot', [...rows.filter((r) => !mine.includes(r)), ...mine.map((r) => ({ ...r, limit: 500, subset_seed: 0 }))], []);
    const r = cli('regress', '--baseline', base, '--results', cur);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${mine.length} missing rows have a new row that differs only in limit blank -> 500, subset_seed blank -> 0`));
  });

  it('accepts a CSV baseline, and --update rewrites the baseline (exit 0)', () => {
    const base = path.join(tmpRoot, 'zeroshot.csv');
    const cur = tmp();
    cpSync(path.join(fixture, 'zeroshot.csv'), base);
    const rows = readResults(fixture, 'zeroshot')!.rows.map((r) => ({ ...r, top1: r.top1! - 5 }));
    writeResults(cur, 'zeroshot', rows, []);
    assert.equal(cli('regress', '--baseline', base, '--results', cur).code, 1);
    const u = cli('regress', '--baseline', base, '--results', cur, '--update');
    assert.equal(u.code, 0, u.stderr);
    assert.equal(readFileSync(base, 'utf8'), readFileSync(path.join(cur, 'zeroshot.csv'), 'utf8'));
    assert.equal(cli('regress', '--baseline', base, '--results', cur).code, 0);
    // a new baseline directory is created by --update
    const fresh = path.join(tmpRoot, 'new-baseline');
    assert.equal(cli('regress', '--baseline', fresh, '--results', fixture, '--update').code, 0);
    assert.ok(existsSync(path.join(fresh, 'linear_probe.json')));
    assert.equal(cli('regress', '--baseline', fresh, '--results', fixture).code, 0);
  });

  it('refuses (exit 2) a baseline that does not exist or does not parse, and bad flags', () => {
    const r = cli('regress', '--baseline', path.join(tmpRoot, 'nope.json'), '--results', fixture);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--baseline .*nope\.json: no such file/);
    const bad = path.join(tmpRoot, 'bad.json');
    writeFileSync(bad, '{"table": "zeroshot", "rows": [ oops');
    const r2 = cli('regress', '--baseline', bad, '--results', fixture);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /bad\.json: not valid JSON/);
    writeFileSync(bad, '{"hello": 1}');
    assert.equal(cli('regress', '--baseline', bad).code, 2);
    assert.equal(cli('regress', '--baseline', fixture, '--results', fixture, '--tolerance', 'x').code, 2);
    assert.equal(cli('regress', '--baseline', fixture, '--results', fixture, '--metric', 'top7').code, 2);
  });

  it('report runs through the CLI too', () => {
    const out = tmp();
    const r = cli('report', '--results', fixture, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(path.join(out, 'report.md')));
    assert.equal(cli('report', '--results', path.join(tmpRoot, 'nothing')).code, 2);
  });
});

describe('regress library', () => {
  it('compares on identity with a tolerance; fewshot primary = mean_per_class_mean for mean-per-class datasets', () => {
    const rows = readResults(fixture, 'fewshot')!.rows;
    const cur = rows.map((r) => (r.dataset === 'oxford_pets' && r.shots === 1 ? { ...r, mean_per_class_mean: r.mean_per_class_mean! - 0.51, top1_mean: r.top1_mean! + 5 } : r));
    const res = compareTable('fewshot', rows, cur, 'primary', 0.5);
    const drop = res.filter((r) => r.status === 'DROP');
    assert.equal(drop.length, 1);
    assert.equal(drop[0].name, 'oxford_pets/1-shot');
    assert.ok(Math.abs(drop[0].delta! + 0.51) < 1e-9);
    assert.equal(compareTable('fewshot', rows, cur, 'top1', 0.5).filter((r) => r.status === 'DROP').length, 0);
    const xml = junitXml(res, 0.5, 'primary');
    assert.match(xml, /classname="fewshot\.ViT-B\/32" name="oxford_pets\/1-shot"/);
  });

  it('lists the evaluations --run would start', () => {
    const cmds = evaluationCommands(loadBaseline(fixture), '/tmp/out').map((c) => c.args.join(' '));
    assert.ok(cmds.includes('zeroshot --model ViT-B/32 --dataset cifar10 --split test --prompts contextless,single,ensemble --out /tmp/out'));
    assert.ok(cmds.includes('linear-probe --model mini --dataset eurosat --out /tmp/out'));
    assert.ok(cmds.includes('fewshot --model mini --dataset cifar10 --shots 1,2,4 --seeds 3 --out /tmp/out'));
    assert.equal(cmds.length, 6 + 6 + 4);
  });
});
