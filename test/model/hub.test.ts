import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fetchHubFiles, hubOptionsFromEnv, parseHubId } from '../../src/hub/hub.js';
import { openModel } from '../../src/model/resolve.js';
import { repoRoot } from '../support/helpers.js';
import { runCli } from '../support/cli.js';
import { startHubServer } from '../support/hub-server.js';
import { CPU_DEVICE } from '../../src/model/device.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'models');
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';

test('hub ids and environment', () => {
  assert.deepEqual(parseHubId('acme/tiny'), { repoId: 'acme/tiny', revision: 'main' });
  assert.deepEqual(parseHubId('acme/tiny@v1.0'), { repoId: 'acme/tiny', revision: 'v1.0' });
  assert.equal(parseHubId('tiny'), null);
  const o = hubOptionsFromEnv({ HF_HOME: '/h', HF_ENDPOINT: 'http://e/', HF_HUB_OFFLINE: '1', HF_TOKEN: 't' });
  assert.deepEqual(o, { endpoint: 'http://e', cacheDir: '/h/hub', offline: true, token: 't' });
  assert.equal(hubOptionsFromEnv({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }).cacheDir, '/c');
});

test('a hub model downloads into the Hugging Face cache layout, then works offline', async () => {
  const server = await startHubServer({ 'acme/tiny-ids': path.join(fixtures, 'tiny-ids'), 'acme/tiny-ids-mask': path.join(fixtures, 'tiny-ids-mask') }, COMMIT);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-hub-'));
  try {
    const hub = { endpoint: server.endpoint, cacheDir, offline: false, token: 'secret' };
    const model = await openModel('acme/tiny-ids', { dtype: 'fp32', device: CPU_DEVICE, threads: 1, hub });
    const local = await openModel(path.join(fixtures, 'tiny-ids'), { dtype: 'fp32', device: CPU_DEVICE, threads: 1 });
    try {
      // same files, same identity (content hash), same embeddings
      assert.equal(model.identity, local.identity);
      const a = await model.encodeTexts(['a photo of a dog.']);
      const b = await local.encodeTexts(['a photo of a dog.']);
      assert.deepEqual(Array.from(a.embeddings), Array.from(b.embeddings));
    } finally {
      await model.close();
      await local.close();
    }
    const repo = path.join(cacheDir, 'models--acme--tiny-ids');
    assert.equal(readFileSync(path.join(repo, 'refs', 'main'), 'utf8'), COMMIT);
    const link = path.join(repo, 'snapshots', COMMIT, 'onnx', 'vision_model.onnx');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.match(readlinkSync(link), /^\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    assert.ok(!readdirSync(path.join(repo, 'blobs')).some((f) => f.endsWith('.incomplete')));
    // the token went to the hub only, never to the storage host it redirected to
    const cdn = server.requests.filter((r) => r.url.startsWith('/cdn/'));
    assert.ok(cdn.length >= 2 && cdn.every((r) => r.auth === undefined && r.host.startsWith('localhost')));
    assert.ok(server.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.auth === 'Bearer secret'));

    // a second fetch downloads no blob again
    const before = server.requests.length;
    await fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, [['config.json'], ['onnx/vision_model.onnx']], hub);
    assert.equal(server.requests.slice(before).filter((r) => r.url.startsWith('/cdn/')).length, 0);

    // through the CLI, with HF_ENDPOINT, then offline with the server gone
    const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir };
    const online = await runCli(['tokenize', '--model', 'acme/tiny-ids-mask', 'a dog'], env);
    assert.equal(online.status, 0, online.stderr + online.stdout);
    await server.close();
    const offline = await runCli(['tokenize', '--model', 'acme/tiny-ids-mask', 'a dog'], { ...env, HF_HUB_OFFLINE: '1' });
    assert.equal(offline.status, 0, offline.stderr);
    assert.deepEqual(JSON.parse(offline.stdout)[0].slice(0, 4), [49406, 320, 1929, 49407]);
    const models = await runCli(['models'], env);
    assert.match(models.stdout, /acme\/tiny-ids-mask\s+c0ffee012345/);
  } finally {
    await server.close().catch(() => {});
  }
});

test('hub errors: unknown repository, missing file, offline miss', async () => {
  const server = await startHubServer({ 'acme/tiny-ids': path.join(fixtures, 'tiny-ids') }, COMMIT);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'clip-bench-hub-'));
  try {
    const env = { HF_ENDPOINT: server.endpoint, HF_HUB_CACHE: cacheDir };
    const missingRepo = await runCli(['tokenize', '--model', 'acme/nothing', 'x'], env);
    assert.equal(missingRepo.status, 2);
    assert.match(missingRepo.stderr, /acme\/nothing@main has no config\.json/);
    const missingDtype = await runCli(['embed', '--model', 'acme/tiny-ids', '--dtype', 'q8'], env);
    assert.equal(missingDtype.status, 2);
    assert.match(missingDtype.stderr, /has no onnx\/vision_model_quantized\.onnx/);
    assert.ok(!existsSync(path.join(cacheDir, 'models--acme--tiny-ids', 'snapshots', COMMIT, 'onnx', 'vision_model_quantized.onnx')));
  } finally {
    await server.close();
  }
});
