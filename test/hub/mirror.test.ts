import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { etagClaim, fetchHubFiles, repoCacheDir, type HubOptions } from '../../src/hub/hub.js';
import { fetchWdsPackage } from '../../src/data/hub-package.js';
import { openWdsSplit, readWdsPackage } from '../../src/data/loaders/wds.js';
import { TMP_RE } from '../../src/util/fs.js';
import { repoRoot } from '../support/helpers.js';
import { tmpDir } from '../support/data-files.js';
import { startHubServer, type HubServerMode } from '../support/hub-server.js';

const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const MODEL = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ids');
const SHAPES = path.join(repoRoot, 'test', 'fixtures', 'wds', 'shapes');
const MODEL_FILES = [['config.json'], ['onnx/vision_model.onnx']];

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitId = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** blob name each snapshot file links to, and the blobs' inodes (a re-download replaces the inode) */
function snapshotState(snapshot: string, files: string[]): { blob: Record<string, string>; inodes: Record<string, number> } {
  const blob: Record<string, string> = {};
  const inodes: Record<string, number> = {};
  for (const f of files) {
    const link = path.join(snapshot, f);
    assert.ok(fs.lstatSync(link).isSymbolicLink(), f);
    blob[f] = path.basename(fs.readlinkSync(link));
    inodes[f] = fs.statSync(link).ino;
  }
  return { blob, inodes };
}

test('ETag classification: the hub\'s sha256 is strict, a git id or weak tag names nothing it cannot prove', () => {
  const sha = 'a'.repeat(64);
  assert.deepEqual(etagClaim(`"${sha}"`, '"x"'), { value: sha, kind: 'sha256', strict: true });
  assert.deepEqual(etagClaim(null, `"${sha}"`), { value: sha, kind: 'sha256', strict: true });
  assert.deepEqual(etagClaim(null, `W/"${sha}"`), { value: sha, kind: 'sha256', strict: false });
  assert.deepEqual(etagClaim(null, `"${'b'.repeat(40)}"`), { value: 'b'.repeat(40), kind: 'git-sha1', strict: false });
  assert.equal(etagClaim(null, 'W/"5f1a-65b2c3d4"'), null);
  assert.equal(etagClaim(null, '"d41d8cd98f00b204e9800998ecf8427e"'), null);
  assert.equal(etagClaim(null, null), null);
});

for (const mode of ['hub', 'static', 'weak-etag', 'git-etag'] as HubServerMode[]) {
  test(`hub mirror (${mode}): models and dataset packages download, verify, rerun from the cache, then work offline`, async () => {
    const server = await startHubServer({ 'acme/tiny-ids': MODEL, 'datasets/acme/shapes': SHAPES }, COMMIT, { mode });
    const cacheDir = tmpDir('hub-mirror');
    const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false, token: 'secret' };
    const commit = mode === 'hub' ? COMMIT : 'main';
    try {
      const modelSnap = await fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, MODEL_FILES, hub);
      assert.equal(modelSnap, path.join(repoCacheDir(cacheDir, 'acme/tiny-ids'), 'snapshots', commit));
      const dataSnap = await fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], hub);
      assert.equal(dataSnap, path.join(cacheDir, 'datasets--acme--shapes', 'snapshots', commit));
      // only the split asked for: no train shard fetched
      assert.ok(!fs.existsSync(path.join(dataSnap, 'train')));
      assert.ok(!server.requests.some((r) => r.url.includes('/train/')));
      assert.ok(server.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.startsWith('/datasets/acme/shapes/') || r.url.startsWith('/acme/tiny-ids/')));
      // the token goes to the hub host only, never to the storage host it redirects to
      assert.ok(server.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.auth === 'Bearer secret'));
      const storage = server.requests.filter((r) => r.url.startsWith('/cdn/'));
      assert.equal(storage.length > 0, mode === 'hub');
      assert.ok(storage.every((r) => r.auth === undefined && r.host.startsWith('localhost')));

      const modelFiles = MODEL_FILES.map((f) => f[0]);
      const dataFiles = ['classnames.txt', 'zeroshot_classification_templates.txt', 'test/nshards.txt', 'test/0.tar', 'test/1.tar', 'test/2.tar'];
      const m1 = snapshotState(modelSnap, modelFiles);
      const d1 = snapshotState(dataSnap, dataFiles);
      // blob names: the hub's sha256 for LFS files, git ids where the server sends them, else the content's sha256
      for (const [snap, state, files, src] of [[modelSnap, m1, modelFiles, MODEL], [dataSnap, d1, dataFiles, SHAPES]] as const) {
        for (const f of files) {
          const bytes = fs.readFileSync(path.join(src, f));
          assert.ok(fs.readFileSync(path.join(snap, f)).equals(bytes), f);
          const lfs = /\.(onnx|tar)$/.test(f);
          const want = mode === 'git-etag' || (mode === 'hub' && !lfs) ? gitId(bytes) : sha256(bytes);
          assert.equal(state.blob[f], want, `${mode} ${f}`);
        }
      }
      for (const dir of [repoCacheDir(cacheDir, 'acme/tiny-ids'), path.join(cacheDir, 'datasets--acme--shapes')]) {
        assert.ok(!fs.readdirSync(path.join(dir, 'blobs')).some((f) => TMP_RE.test(f) || f.includes('incomplete')));
      }
      // a dataset missing from the package's optional files is remembered as absent (huggingface_hub's .no_exist)
      if (mode === 'hub') assert.ok(fs.existsSync(path.join(cacheDir, 'datasets--acme--shapes', '.no_exist', COMMIT, 'dataset_type.txt')));

      // a second online run downloads nothing again
      await fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, MODEL_FILES, hub);
      await fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], hub);
      assert.deepEqual(snapshotState(modelSnap, modelFiles), m1);
      assert.deepEqual(snapshotState(dataSnap, dataFiles), d1);

      const local = await openWdsSplit(readWdsPackage(SHAPES), 'test', { indexDir: tmpDir('wds-index') });
      await server.close();
      // offline, from the cache only
      const off = { ...hub, offline: true };
      assert.equal(await fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, MODEL_FILES, off), modelSnap);
      const snap = await fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], off);
      const cached = await openWdsSplit(readWdsPackage(snap), 'test', { indexDir: tmpDir('wds-index') });
      assert.deepEqual(Array.from(cached.labels), Array.from(local.labels));
      assert.equal(cached.fingerprint, local.fingerprint);
      await assert.rejects(fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['train'], off), /HF_HUB_OFFLINE is set and split 'train' of dataset acme\/shapes@main is not in the cache/);
    } finally {
      await server.close().catch(() => {});
    }
  });
}

test('static mirror: a file changed on the server (new Last-Modified) is downloaded again', async () => {
  const pkg = path.join(tmpDir('hub-pkg'), 'shapes');
  fs.cpSync(SHAPES, pkg, { recursive: true });
  const server = await startHubServer({ 'datasets/acme/shapes': pkg }, COMMIT, { mode: 'static' });
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir: tmpDir('hub-mirror'), offline: false };
  try {
    const snap = await fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], hub);
    assert.equal(readWdsPackage(snap).classes[0], 'red square');
    const names = fs.readFileSync(path.join(pkg, 'classnames.txt'), 'utf8').replace('red square', 'red squares');
    fs.writeFileSync(path.join(pkg, 'classnames.txt'), names);
    fs.utimesSync(path.join(pkg, 'classnames.txt'), new Date(Date.now() + 5000), new Date(Date.now() + 5000));
    await fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], hub);
    assert.equal(readWdsPackage(snap).classes[0], 'red squares');
  } finally {
    await server.close();
  }
});

test('hub: storage bytes that do not match the LFS sha256 are a corrupt download, and nothing is kept', async () => {
  const server = await startHubServer({ 'datasets/acme/shapes': SHAPES, 'acme/tiny-ids': MODEL }, COMMIT, { corruptLfs: true });
  const cacheDir = tmpDir('hub-mirror');
  const hub: HubOptions = { endpoint: server.endpoint, cacheDir, offline: false };
  try {
    await assert.rejects(fetchWdsPackage({ repoId: 'acme/shapes', revision: 'main' }, ['test'], hub), /download of test\/0\.tar is corrupt: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/);
    await assert.rejects(fetchHubFiles({ repoId: 'acme/tiny-ids', revision: 'main' }, MODEL_FILES, hub), /onnx\/vision_model\.onnx is corrupt/);
    const blobs = fs.readdirSync(path.join(cacheDir, 'datasets--acme--shapes', 'blobs'));
    assert.ok(blobs.every((b) => /^[0-9a-f]{40}$/.test(b)), blobs.join(' ')); // the small git files only
    assert.ok(!fs.existsSync(path.join(cacheDir, 'datasets--acme--shapes', 'snapshots', COMMIT, 'test', '0.tar')));
  } finally {
    await server.close();
  }
});
