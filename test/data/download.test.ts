import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.js';
import { downloadFile, extractTarGz } from '../../src/data/download.js';
import { ensureDataset, resourceUrl, MIRROR_ENV } from '../../src/data/ensure.js';
import { getDataset } from '../../src/data/registry.js';
import { cifarRecords, makeTarGz, serve, tmpDir, writeIdxSplit } from '../support/data-files.js';

const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex');
const payload = crypto.randomBytes(300_000);

test('downloadFile: fetches, verifies sha256 and md5, follows redirects, reports progress', async () => {
  const srv = await serve({ '/f.bin': { body: payload }, '/r1': { body: payload, redirect: '/r2' }, '/r2': { body: payload, redirect: '/f.bin', status: 307 } });
  try {
    const dir = tmpDir('dl');
    const dest = path.join(dir, 'sub', 'f.bin');
    const seen: [number, number | undefined][] = [];
    await downloadFile(`${srv.base}/f.bin`, dest, { sha256: sha256(payload), onProgress: (d, t) => seen.push([d, t]) });
    assert.deepEqual(fs.readFileSync(dest), payload);
    assert.equal(fs.existsSync(dest + '.part'), false);
    assert.deepEqual(seen[seen.length - 1], [payload.length, payload.length]);
    const dest2 = path.join(dir, 'g.bin');
    await downloadFile(`${srv.base}/r1`, dest2, { md5: ['0'.repeat(32), md5(payload)] });
    assert.deepEqual(fs.readFileSync(dest2), payload);
  } finally {
    await srv.close();
  }
});

test('downloadFile: too many redirects, 404 and connection refused -> UserError naming the URL', async () => {
  const routes: Record<string, { body: Buffer; redirect: string }> = {};
  for (let k = 0; k < 7; k++) routes[`/loop${k}`] = { body: payload, redirect: `/loop${k + 1}` };
  const srv = await serve(routes);
  const dir = tmpDir('dl-err');
  try {
    await assert.rejects(downloadFile(`${srv.base}/loop0`, path.join(dir, 'a'), {}), (e: unknown) => e instanceof UserError && /redirects/.test(e.message));
    const url = `${srv.base}/missing.bin`;
    await assert.rejects(downloadFile(url, path.join(dir, 'b'), {}), (e: unknown) => e instanceof UserError && e.message.includes(url) && /404/.test(e.message));
    assert.equal(fs.existsSync(path.join(dir, 'b')), false);
  } finally {
    await srv.close();
  }
  await assert.rejects(downloadFile(`${srv.base}/x`, path.join(dir, 'c'), {}), (e: unknown) => e instanceof UserError && e.message.includes(srv.base));
});

test('downloadFile: checksum mismatch deletes the part and names the URL and both hashes', async () => {
  const srv = await serve({ '/f.bin': { body: payload } });
  try {
    const dest = path.join(tmpDir('dl-sum'), 'f.bin');
    const url = `${srv.base}/f.bin`;
    const wrong = 'a'.repeat(64);
    await assert.rejects(
      downloadFile(url, dest, { sha256: wrong }),
      (e: unknown) => e instanceof UserError && e.message.includes(url) && e.message.includes(wrong) && e.message.includes(sha256(payload)),
    );
    assert.equal(fs.existsSync(dest), false);
    assert.equal(fs.existsSync(dest + '.part'), false);
    await assert.rejects(downloadFile(url, dest, { md5: 'b'.repeat(32) }), (e: unknown) => e instanceof UserError && /md5 mismatch/.test(e.message) && e.message.includes(md5(payload)));
  } finally {
    await srv.close();
  }
});

test('downloadFile: resumes a .part with Range (206), restarts when the server ignores Range (200)', async () => {
  const srv = await serve({ '/ranged.bin': { body: payload }, '/plain.bin': { body: payload, ranges: false } });
  try {
    const dir = tmpDir('dl-resume');
    const cut = 123_457;
    // 206: only the rest is transferred and appended
    const d1 = path.join(dir, 'ranged.bin');
    fs.writeFileSync(d1 + '.part', payload.subarray(0, cut));
    const progress: number[] = [];
    await downloadFile(`${srv.base}/ranged.bin`, d1, { sha256: sha256(payload), onProgress: (d) => progress.push(d) });
    assert.deepEqual(fs.readFileSync(d1), payload);
    assert.equal(srv.log.at(-1)!.range, `bytes=${cut}-`);
    assert.equal(srv.log.at(-1)!.status, 206);
    assert.equal(progress[0], cut);
    // 200: the part is overwritten, not appended to
    const d2 = path.join(dir, 'plain.bin');
    fs.writeFileSync(d2 + '.part', payload.subarray(0, cut));
    await downloadFile(`${srv.base}/plain.bin`, d2, { sha256: sha256(payload) });
    assert.equal(srv.log.at(-1)!.range, `bytes=${cut}-`);
    assert.equal(srv.log.at(-1)!.status, 200);
    assert.deepEqual(fs.readFileSync(d2), payload);
    // a corrupt part (wrong bytes) is resumed, fails verification and is deleted
    const d3 = path.join(dir, 'bad.bin');
    fs.writeFileSync(d3 + '.part', Buffer.alloc(cut, 7));
    await assert.rejects(downloadFile(`${srv.base}/ranged.bin`, d3, { sha256: sha256(payload) }), UserError);
    assert.equal(fs.existsSync(d3 + '.part'), false);
    // a part as long as the file (416): start over
    const d4 = path.join(dir, 'full.bin');
    fs.writeFileSync(d4 + '.part', payload);
    await downloadFile(`${srv.base}/ranged.bin`, d4, { sha256: sha256(payload) });
    assert.deepEqual(fs.readFileSync(d4), payload);
  } finally {
    await srv.close();
  }
});

test('extractTarGz refuses entries escaping the target (../, absolute, symlink out) and extracts nothing', async () => {
  const dir = tmpDir('tar-evil');
  const dest = path.join(dir, 'root');
  const cases: [string, Parameters<typeof makeTarGz>[0]][] = [
    ['dotdot', [{ name: 'ok.txt', data: 'fine' }, { name: '../evil.txt', data: 'pwned' }]],
    ['nested-dotdot', [{ name: 'a/../../evil.txt', data: 'pwned' }]],
    ['absolute', [{ name: '/tmp/clip-bench-evil.txt', data: 'pwned' }]],
    ['symlink', [{ name: 'link', type: '2', linkname: '../../etc' }]],
    ['symlink-abs', [{ name: 'link', type: '2', linkname: '/etc/passwd' }]],
    ['hardlink', [{ name: 'hl', type: '1', linkname: '../outside' }]],
  ];
  for (const [tag, entries] of cases) {
    const archive = path.join(dir, `${tag}.tar.gz`);
    fs.writeFileSync(archive, makeTarGz(entries));
    await assert.rejects(extractTarGz(archive, dest), (e: unknown) => e instanceof UserError && e.message.includes(archive) && /refusing/.test(e.message), tag);
    assert.deepEqual(fs.readdirSync(dest), [], `${tag}: nothing extracted`);
  }
  assert.equal(fs.existsSync(path.join(dir, 'evil.txt')), false);
  assert.equal(fs.existsSync('/tmp/clip-bench-evil.txt'), false);
  // a symlink that stays inside is fine
  const archive = path.join(dir, 'good.tar.gz');
  fs.writeFileSync(archive, makeTarGz([{ name: 'd/a.txt', data: 'x' }, { name: 'd/l', type: '2', linkname: 'a.txt' }]));
  await extractTarGz(archive, dest);
  assert.equal(fs.readFileSync(path.join(dest, 'd/l'), 'utf8'), 'x');
  // not a tar.gz
  fs.writeFileSync(path.join(dir, 'junk.tar.gz'), 'junk');
  await assert.rejects(extractTarGz(path.join(dir, 'junk.tar.gz'), dest), UserError);
});

test('ensureDataset: fetches a missing split from CLIP_BENCH_DATASET_MIRROR, extracts, then opens', async () => {
  const archive = makeTarGz([
    { name: 'cifar-10-batches-bin/test_batch.bin', data: cifarRecords([[4], [2]]) },
    ...[1, 2, 3, 4, 5].map((k) => ({ name: `cifar-10-batches-bin/data_batch_${k}.bin`, data: cifarRecords([[k]]) })),
  ]);
  const mnistDir = tmpDir('mirror-src');
  writeIdxSplit(mnistDir, 't10k', [3, 1, 4]);
  const routes: Record<string, { body: Buffer }> = { '/m/cifar10/cifar-10-binary.tar.gz': { body: archive } };
  for (const f of fs.readdirSync(mnistDir)) routes[`/m/mnist/${f}`] = { body: fs.readFileSync(path.join(mnistDir, f)) };
  const srv = await serve(routes);
  const saved = process.env[MIRROR_ENV];
  process.env[MIRROR_ENV] = `${srv.base}/m/`;
  try {
    const cifar = getDataset('cifar10');
    assert.equal(resourceUrl('cifar10', cifar.resources[0]!), `${srv.base}/m/cifar10/cifar-10-binary.tar.gz`);
    const root = path.join(tmpDir('ensure'), 'cifar10');
    await assert.rejects(ensureDataset(cifar, root, 'test', { download: false }), (e: unknown) => e instanceof UserError && /downloads are off \(--no-download\)/.test(e.message));
    // the real md5 does not match our tiny archive: verification fails, nothing is left behind
    await assert.rejects(ensureDataset(cifar, root, 'test', { download: true }), (e: unknown) => e instanceof UserError && /md5 mismatch/.test(e.message));
    assert.equal(fs.existsSync(path.join(root, 'cifar-10-binary.tar.gz.part')), false);
    const patched = { ...cifar, resources: [{ ...cifar.resources[0]!, md5: [md5(archive)] }] };
    const statuses: string[] = [];
    await ensureDataset(patched, root, 'test', { download: true, onStatus: (s) => statuses.push(s) });
    assert.ok(statuses.some((s) => s.startsWith('extracting')));
    assert.deepEqual([...(await cifar.open(root, 'test')).labels], [4, 2]);
    assert.equal(cifar.isPresent(root), true);
    const before = srv.log.length;
    await ensureDataset(patched, root, 'train', { download: true });
    assert.equal(srv.log.length, before, 'nothing fetched twice');

    const mnist = getDataset('mnist');
    const mroot = path.join(tmpDir('ensure-mnist'), 'mnist');
    const patchedM = { ...mnist, resources: mnist.resources.map((r) => ({ ...r, md5: undefined })) };
    await ensureDataset(patchedM, mroot, 'test', { download: true });
    assert.deepEqual([...(await mnist.open(mroot, 'test')).labels], [3, 1, 4]);
    assert.equal(fs.existsSync(path.join(mroot, 'train-images-idx3-ubyte.gz')), false, 'only the split asked for');
    await assert.rejects(ensureDataset(getDataset('imagefolder'), path.join(mroot, 'nope'), 'test', { download: true }), UserError);
  } finally {
    if (saved === undefined) delete process.env[MIRROR_ENV];
    else process.env[MIRROR_ENV] = saved;
    await srv.close();
  }
});

test('extractTarGz: removes leftovers of a dead extraction, keeps a live one, replaces an older copy', async () => {
  const dest = tmpDir('tar-stale');
  const dead = path.join(dest, '.extract-999999999-abc');
  const live = path.join(dest, `.extract-${process.pid}-xyz`);
  fs.mkdirSync(dead);
  fs.mkdirSync(live);
  fs.mkdirSync(path.join(dest, 'd'));
  fs.writeFileSync(path.join(dest, 'd', 'old.txt'), 'old');
  const archive = path.join(dest, 'a.tar.gz');
  fs.writeFileSync(archive, makeTarGz([{ name: 'd/new.txt', data: 'new' }]));
  await extractTarGz(archive, dest);
  assert.equal(fs.existsSync(dead), false);
  assert.equal(fs.existsSync(live), true);
  assert.deepEqual(fs.readdirSync(path.join(dest, 'd')), ['new.txt']);
});
