// A bad image anywhere in a dataset, a full disk: a one-line error naming the file, exit 2, never a native crash
// (a truncated JPEG as the last file used to abort the process with `terminate called after throwing an instance
// of 'Napi::Error'`, exit 134: the inference worker was terminated while onnxruntime was running a batch in it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { runCli, type CliResult } from '../support/cli.js';
import { tmpDir } from '../support/data-files.js';
import { repoRoot } from '../support/helpers.js';

const PER_CLASS = 20;
const positions = { first: 0, middle: PER_CLASS, last: 2 * PER_CLASS - 1 } as const;

/** ROOT/test/{a,b}/NN.jpg, 40 JPEGs in dataset order; the one at `bad` (a dataset index) truncated. */
async function folderWithBadImage(bad: number): Promise<{ root: string; badFile: string }> {
  const root = tmpDir('crash');
  let badFile = '';
  for (const [c, cls] of ['a', 'b'].entries()) {
    fs.mkdirSync(path.join(root, 'test', cls), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      const file = path.join(root, 'test', cls, `${String(i).padStart(2, '0')}.jpg`);
      const jpeg = await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: i * 12, g: c * 200, b: 90 } } }).jpeg().toBuffer();
      const index = c * PER_CLASS + i;
      fs.writeFileSync(file, index === bad ? jpeg.subarray(0, jpeg.length >> 1) : jpeg);
      if (index === bad) badFile = file;
    }
  }
  return { root, badFile };
}

/** One line on stderr naming the file, exit 2, nothing native. */
function assertCleanError(r: CliResult, file: string, what: string): void {
  assert.equal(r.status, 2, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Napi|terminate called|FATAL ERROR|internal error|\n\s+at /, what);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('clip-bench:'));
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.ok(lines[0].includes(file), `${what}: the error names ${file}: ${lines[0]}`);
}

/** Files a failed run may not leave behind: temp files and complete-looking entries. */
function leftovers(cache: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tmp-\d+-[0-9a-f]+$/.test(e.name) || e.name === 'meta.json' || e.name === 'embeddings.npy') out.push(p);
    }
  };
  if (fs.existsSync(cache)) walk(cache);
  return out;
}

for (const [where, bad] of Object.entries(positions)) {
  test(`a truncated JPEG ${where} in the folder: exit 2 naming it under batch sizes 1, 2, 7, 32`, async () => {
    const { root, badFile } = await folderWithBadImage(bad);
    for (const batch of ['1', '2', '7', '32']) {
      const cache = tmpDir('crash-cache');
      const r = await runCli(['embed', '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', cache, '--batch-size', batch, '--threads', '1', '--no-progress']);
      assertCleanError(r, badFile, `${where}, --batch-size ${batch}`);
      assert.match(r.stderr, /cannot decode image .*--skip-bad-images/);
      assert.deepEqual(leftovers(cache), [], `${where}, --batch-size ${batch}`);
    }
  });
}

test('the same with preprocessing worker threads, and zero-shot (text tower loaded too)', async () => {
  const { root, badFile } = await folderWithBadImage(positions.last);
  for (const batch of ['2', '32']) {
    const cache = tmpDir('crash-cache');
    const env = { CLIP_BENCH_PREPROCESS_WORKERS: '2' };
    const r = await runCli(['embed', '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', cache, '--batch-size', batch, '--no-progress'], env);
    assertCleanError(r, badFile, `preprocessing workers, --batch-size ${batch}`);
  }
  const out = tmpDir('crash-out');
  const z = await runCli(['zeroshot', '--dataset', 'imagefolder', '--dataset-root', root, '--cache-dir', tmpDir('crash-cache'), '--out', out, '--batch-size', '7', '--no-progress']);
  assertCleanError(z, badFile, 'zeroshot');
  assert.deepEqual(fs.readdirSync(out), [], 'no result file for a failed run');
});

/** Runs the CLI with `dir` a fresh tmpfs of `kib` KiB (a private mount namespace: no root needed), or null. */
function runOnSmallDisk(dir: string, kib: number, args: string[]): CliResult | null {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=4k tmpfs '${dir}'`], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const cli = [process.execPath, path.join(repoRoot, 'bin', 'clip-bench'), ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=${kib}k tmpfs '${dir}' && exec ${cli}`], { encoding: 'utf8', cwd: repoRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a full disk (ENOSPC) under the cache or the results is a one-line error naming the file, exit 2', (t) => {
  const disk = tmpDir('enospc');
  const cacheRun = runOnSmallDisk(disk, 40, ['zeroshot', '--cache-dir', path.join(disk, 'cache'), '--limit', '2000', '--prompts', 'single', '--no-progress', '--out', tmpDir('enospc-out')]);
  if (cacheRun === null) {
    t.skip('no private tmpfs here (unshare -rm + mount -t tmpfs refused)');
    return;
  }
  assertCleanError(cacheRun, path.join(disk, 'cache'), 'cache on a full disk');
  assert.match(cacheRun.stderr, /no space left on device \(ENOSPC\)/);
  assert.doesNotMatch(cacheRun.stderr, /\.tmp-/, 'the error names the file, not its temp name');

  const outRun = runOnSmallDisk(disk, 4, ['zeroshot', '--cache-dir', tmpDir('enospc-cache'), '--limit', '200', '--prompts', 'single', '--no-progress', '--out', path.join(disk, 'out')]);
  assert.ok(outRun);
  assertCleanError(outRun, path.join(disk, 'out'), 'results on a full disk');
  assert.match(outRun.stderr, /no space left on device \(ENOSPC\)/);
});

/**
 * Runs the CLI (`args`) inside a private mount namespace with `disk` a 256 KiB tmpfs holding a copy of `seed` (if
 * any), filled so that only `pages` 4 KiB pages are free; copies `keep` (names under `disk`) and a listing of every
 * file left on the disk into `after`. Null where no private tmpfs can be made.
 */
function runOnFilledDisk(disk: string, pages: number, args: string[], seed: string | null, keep: string[], after: string): CliResult | null {
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=4k tmpfs '${disk}'`]);
  if (probe.status !== 0) return null;
  const cli = [process.execPath, path.join(repoRoot, 'bin', 'clip-bench'), ...args].map((a) => `'${a}'`).join(' ');
  const script = [
    `mount -t tmpfs -o size=256k tmpfs '${disk}'`,
    seed ? `cp -r '${seed}/.' '${disk}/'` : ':',
    `used=$(df -k --output=used '${disk}' | tail -1)`,
    `dd if=/dev/zero of='${disk}/filler' bs=4k count=$(( (256 - used) / 4 - ${pages} )) 2>/dev/null`,
    `${cli}; rc=$?`,
    ...keep.map((k) => `[ -e '${disk}/${k}' ] && cp '${disk}/${k}' '${after}/'`),
    `(cd '${disk}' && find . -mindepth 1 ! -name filler) > '${after}/listing'`,
    'exit $rc',
  ].join('\n');
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', cwd: repoRoot });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failed run on a full disk: exit 2, one line naming a file under `under`, no temp, lock or claim file left. */
function assertFullDiskFailure(r: CliResult, under: string, after: string, what: string): void {
  assert.equal(r.status, 2, `${what}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^clip-bench: cannot write ${under.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S*: no space left on device \\(ENOSPC\\)\n$`), `${what}: one line naming the file`);
  const listing = fs.readFileSync(path.join(after, 'listing'), 'utf8');
  assert.doesNotMatch(listing, /\.tmp-/, `${what}: a temp file was left`);
  // an empty lock or claim left behind would hold the next writer off until it went stale
  assert.doesNotMatch(listing, /lock$|\.lock\n|\.claim\n/m, `${what}: a lock or claim file was left:\n${listing}`);
}

test('a disk that fills while the results are written: exit 2 naming the file, the old CSV and JSON kept (or both new), no temp or lock file left', async (t) => {
  const cache = tmpDir('enospc-pair-cache');
  const before = tmpDir('enospc-pair-before');
  const common = ['--cache-dir', cache, '--limit', '200', '--no-progress'];
  const first = await runCli(['zeroshot', ...common, '--prompts', 'single', '--out', before]);
  assert.equal(first.status, 0, first.stderr);
  const read = (d: string) => ['zeroshot.csv', 'zeroshot.json'].map((f) => (fs.existsSync(path.join(d, f)) ? fs.readFileSync(path.join(d, f), 'utf8') : ''));
  const old = read(before);
  let failed = 0;
  let succeeded: string[] | null = null;
  // free space from nothing to enough, a page at a time: the run fails at every step of writing, then succeeds
  for (let pages = 0; pages <= 8 && !succeeded; pages++) {
    const disk = tmpDir('enospc-pair');
    const after = tmpDir('enospc-pair-after');
    const r = runOnFilledDisk(disk, pages, ['zeroshot', ...common, '--prompts', 'ensemble', '--out', disk], before, ['zeroshot.csv', 'zeroshot.json'], after);
    if (r === null) {
      t.skip('no private tmpfs here (unshare -rm + mount -t tmpfs refused)');
      return;
    }
    if (r.status === 0) {
      succeeded = read(after);
      continue;
    }
    failed++;
    assertFullDiskFailure(r, disk, after, `results, ${pages} free pages`);
    assert.deepEqual(read(after), old, `with ${pages} free pages: the results files changed although the run failed`);
  }
  assert.ok(failed >= 2, `${failed} failed runs`);
  assert.ok(succeeded, 'no run succeeded with 8 free pages');
  assert.notDeepEqual(succeeded, old);
  assert.match(succeeded[0]!, /ensemble/);
  assert.match(succeeded[1]!, /ensemble/);
});

test('a cache disk that fills at any point of writing an entry: exit 2 naming the file, no lock, claim or temp file left', (t) => {
  let failed = 0;
  // 0-3 free pages: the lock, the labels, the layout; 4: a chunk claim; 6 and 7: a chunk record, then its rows
  for (const pages of [0, 1, 2, 3, 4, 6, 7]) {
    const disk = tmpDir('enospc-cache');
    const after = tmpDir('enospc-cache-after');
    const r = runOnFilledDisk(disk, pages, ['embed', '--cache-dir', path.join(disk, 'cache'), '--limit', '2000', '--no-progress'], null, [], after);
    if (r === null) {
      t.skip('no private tmpfs here (unshare -rm + mount -t tmpfs refused)');
      return;
    }
    assertFullDiskFailure(r, path.join(disk, 'cache'), after, `cache, ${pages} free pages`);
    failed++;
  }
  assert.equal(failed, 7);
});
