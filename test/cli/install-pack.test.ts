import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/helpers.js';

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for its own children. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A consumer project's lockfile for the packed tarball, from this repository's own lockfile: the same resolved
 * versions and integrity hashes, so `npm ci --offline` installs from the npm cache that `npm ci` filled here, as an
 * air-gapped machine with a copied cache or a registry mirror would.
 */
function consumerLock(tarball: string, allowScripts: Record<string, boolean>) {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const spec = `file:${tarball}`;
  const root = { name: 'consumer', private: true, dependencies: { 'clip-bench': spec }, allowScripts };
  const packages: Record<string, unknown> = {
    '': root,
    'node_modules/clip-bench': {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) {
    if (key !== '' && !entry.dev) packages[key] = entry;
  }
  return { root, lock: { name: 'consumer', lockfileVersion: 3, requires: true, packages } };
}

test('a packed tarball installs offline in a clean folder, quietly, and runs the default job', { timeout: 600_000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clip-bench-pack-'));
  try {
    const env = userEnv({ XDG_CACHE_HOME: path.join(work, 'xdg'), ONNXRUNTIME_NODE_INSTALL: undefined });
    // dist/ is already built by `npm test`; --ignore-scripts keeps prepack from rewriting it under running tests
    const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], repoRoot, env);
    assert.equal(pack.status, 0, pack.stderr);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/src/cli/main.js'), 'the compiled CLI is in the tarball');
    assert.ok(files.includes('models/mini/onnx/vision_model.onnx'), 'the built-in model is in the tarball');
    assert.deepEqual(files.filter((f) => /^(test|dist\/test|scripts)\//.test(f)), [], 'no tests or scripts are packed');
    // files read at run time beside the compiled code: WebAssembly kernels and the data under src/
    const runtime = [
      ...fs.readdirSync(path.join(repoRoot, 'wasm')).filter((f) => f.endsWith('.wasm')).map((f) => `wasm/${f}`),
      ...(fs.readdirSync(path.join(repoRoot, 'src'), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.json'))
        .map((f) => `src/${f.split(path.sep).join('/')}`),
    ];
    assert.ok(runtime.length >= 2);
    for (const f of runtime) assert.ok(files.includes(f), `${f} is in the tarball`);

    const project = path.join(work, 'consumer');
    fs.mkdirSync(project);
    const { root, lock } = consumerLock(path.join(work, info.filename), { koffi: false, 'onnxruntime-node': false });
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify(root, null, 2));
    fs.writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
    const install = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project, env);
    assert.equal(install.status, 0, install.stderr);
    assert.doesNotMatch(install.stdout + install.stderr, /warn/i, 'npm ci prints no warning');

    const bin = path.join(project, 'node_modules', '.bin', 'clip-bench');
    const job = await run(bin, ['zeroshot'], project, env);
    assert.equal(job.status, 0, job.stderr);
    assert.doesNotMatch(job.stderr, /warn/i, 'the default job prints no warning');
    assert.match(job.stdout, /^mini\s+fp32\s+fashion-mnist\s+test\s+ensemble\s+10000\s/m);
    const rows = JSON.parse(fs.readFileSync(path.join(project, 'results', 'zeroshot.json'), 'utf8'));
    assert.ok(JSON.stringify(rows).includes('"n_images":10000'), 'the whole Fashion-MNIST test split was evaluated');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
