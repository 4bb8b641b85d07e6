import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { UserError } from '../../src/errors.js';
import { mapClassesByName } from '../../src/data/class-map.js';
import { getDataset } from '../../src/data/registry.js';
import { clipBenchmarkRepo } from '../../src/data/wds-datasets.js';
import { openWdsSplit, readWdsPackage } from '../../src/data/loaders/wds.js';
import { parseNpyVector } from '../../src/data/loaders/wds-shard.js';
import { scanTar } from '../../src/data/tar-scan.js';
import { decodeImage } from '../../src/image/decode.js';
import { repoRoot } from '../support/helpers.js';
import { tmpDir } from '../support/data-files.js';

/** Packages written by scripts/make_wds_fixtures.py (Python's tarfile, PAX by default; one shard GNU). */
const FIX = path.join(repoRoot, 'test', 'fixtures', 'wds');
type Entry = { shard: number; key: string; ext: string; sha256: string; label?: number; target?: number[] };
const manifest = (pkg: string): Record<string, Entry[]> => JSON.parse(fs.readFileSync(path.join(FIX, pkg, 'manifest.json'), 'utf8'));

function copyPackage(name: string): string {
  const dir = path.join(tmpDir('wds'), name);
  fs.cpSync(path.join(FIX, name), dir, { recursive: true });
  return dir;
}

function statusLog(): { lines: string[]; onStatus: (m: string) => void } {
  const lines: string[] = [];
  return { lines, onStatus: (m) => lines.push(m) };
}

test('wds package metadata: empty interior class name kept, {c} templates converted, splits found', () => {
  const pkg = readWdsPackage(path.join(FIX, 'shapes'));
  assert.deepEqual(pkg.classes, ['red square', '', 'green circle', 'blue triangle']);
  assert.deepEqual(pkg.templates, ['a photo of a {}.', 'a drawing of the {}.']);
  assert.equal(pkg.type, 'classification');
  assert.deepEqual(pkg.splits, ['test', 'train']);
  assert.equal(readWdsPackage(path.join(FIX, 'voc-multilabel')).type, 'multilabel');
});

test('wds: every sample of every shard (PAX, global header, GNU long names, 11 shards) is where Python put it', async () => {
  const pkgDir = path.join(FIX, 'shapes');
  const pkg = readWdsPackage(pkgDir);
  const man = manifest('shapes');
  const indexDir = tmpDir('wds-index');
  for (const split of ['test', 'train']) {
    const src = await openWdsSplit(pkg, split, { indexDir });
    const want = man[split];
    assert.equal(src.n, want.length);
    assert.deepEqual(Array.from(src.labels), want.map((e) => e.label));
    assert.deepEqual(src.classes, pkg.classes);
    // an independent reader (node-tar) extracts the members; the loader's bytes must decode to the same pixels
    const out = tmpDir('wds-extract');
    const shards = [...new Set(want.map((e) => e.shard))];
    for (const s of shards) {
      fs.mkdirSync(path.join(out, `${s}`));
      await tar.x({ file: path.join(pkgDir, split, `${s}.tar`), cwd: path.join(out, `${s}`) });
    }
    for (let i = 0; i < src.n; i++) {
      const e = want[i];
      assert.equal(src.describe(i), `${path.join(pkgDir, split, `${e.shard}.tar`)}#${e.key}.${e.ext}`);
      const file = path.join(out, `${e.shard}`, `${e.key}.${e.ext}`);
      assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), e.sha256);
      const got = await src.load(i);
      const ref = await decodeImage(file);
      assert.deepEqual([got.width, got.height, got.channels], [ref.width, ref.height, ref.channels]);
      assert.ok(Buffer.from(got.data).equals(Buffer.from(ref.data)), `${e.key}: pixels differ`);
    }
  }
  // the shard order is numeric: 10.tar is the last shard of train
  const train = await openWdsSplit(pkg, 'train', { indexDir });
  assert.match(train.describe(train.n - 1), /train\/10\.tar#s0000014\.webp$/);
  assert.match(train.describe(4), /train\/3\.tar#a-very-long-directory-name-x{90}\/s0000004\.jpg$/);
});

test('tar scan: PAX and GNU records are metadata, links and directories are skipped, sha256 is the file hash', async () => {
  const gnu = path.join(FIX, 'shapes', 'train', '3.tar');
  const { members, sha256 } = await scanTar(gnu);
  assert.deepEqual(members.map((m) => m.name.slice(-13)), ['s0000004.cls', 's0000004.jpg', 's0000005.cls', 's0000005.webp'].map((n) => n.padStart(13, '/')));
  assert.equal(sha256, createHash('sha256').update(fs.readFileSync(gnu)).digest('hex'));
  const pax = await scanTar(path.join(FIX, 'shapes', 'test', '0.tar'));
  assert.deepEqual(pax.members.map((m) => m.name).slice(0, 3), ['extra/README', 's0000000.cls', 's0000000.webp']);
  const bytes = fs.readFileSync(path.join(FIX, 'shapes', 'test', '0.tar'));
  const cls = pax.members[1];
  assert.equal(bytes.toString('utf8', cls.offset, cls.offset + cls.size), '0');
});

test('wds index is kept: a second open scans nothing, a changed shard is scanned again', async () => {
  const dir = copyPackage('shapes');
  const indexDir = tmpDir('wds-index');
  const first = statusLog();
  const a = await openWdsSplit(readWdsPackage(dir), 'test', { indexDir, onStatus: first.onStatus });
  assert.equal(first.lines.length, 1);
  assert.match(first.lines[0], /^indexing .*shapes test: 3 shards, 0\.\d MB \(once; kept in /);
  assert.equal(fs.readdirSync(indexDir).length, 3);
  const second = statusLog();
  const b = await openWdsSplit(readWdsPackage(dir), 'test', { indexDir, onStatus: second.onStatus });
  assert.deepEqual(second.lines, []);
  assert.equal(b.fingerprint, a.fingerprint);
  // the fingerprint is the shards' content: a copy elsewhere has the same one
  const copy = await openWdsSplit(readWdsPackage(path.join(FIX, 'shapes')), 'test', { indexDir });
  assert.equal(copy.fingerprint, a.fingerprint);
  // touched (same bytes): scanned again, same fingerprint
  const shard = path.join(dir, 'test', '1.tar');
  fs.utimesSync(shard, new Date(2020, 1, 1), new Date(2020, 1, 1));
  const third = statusLog();
  const c = await openWdsSplit(readWdsPackage(dir), 'test', { indexDir, onStatus: third.onStatus });
  assert.equal(third.lines.length, 1);
  assert.equal(fs.readdirSync(indexDir).length, 3 + 3 + 1); // the copy's three, and shard 1 under its new identity
  assert.equal(c.fingerprint, a.fingerprint);
  // replaced by shard 2's bytes: different samples, different fingerprint
  fs.copyFileSync(path.join(dir, 'test', '2.tar'), shard);
  await assert.rejects(openWdsSplit(readWdsPackage(dir), 'test', { indexDir }), /test\/2\.tar: sample s0000007 is also in test\/1\.tar/);
});

test('wds paper classes: a different order is mapped by name (Caltech-101 in VTAB order), counts must agree', async () => {
  const pkg = readWdsPackage(path.join(FIX, 'reorder'));
  assert.deepEqual(pkg.classes, ['accordion', 'Airplane', 'background', 'centered_face']);
  const paperClasses = ['background', 'centered face', 'accordion', 'airplane'];
  const indexDir = tmpDir('wds-index');
  const src = await openWdsSplit(pkg, 'test', { paperClasses, indexDir });
  assert.deepEqual(src.classes, paperClasses);
  // package labels 0 1 2 3 2 1 = accordion Airplane background centered_face background Airplane
  assert.deepEqual(Array.from(src.labels), [2, 3, 0, 1, 0, 3]);
  const plain = await openWdsSplit(pkg, 'test', { indexDir });
  assert.deepEqual(Array.from(plain.labels), [0, 1, 2, 3, 2, 1]);
  assert.notEqual(plain.fingerprint, src.fingerprint);
  await assert.rejects(openWdsSplit(pkg, 'test', { paperClasses: paperClasses.slice(1), indexDir }), /4 classes in the package but 3 in the paper's list/);
  // same order with different spellings: identity; another order that names cannot resolve: an error
  assert.deepEqual(Array.from(mapClassesByName(['cat', 'dog', 'stop'], ['cat', 'dog', 'stop sign'], 'x')), [0, 1, 2]);
  assert.throws(() => mapClassesByName(['dog', 'cat', 'stop'], ['cat', 'dog', 'stop sign'], 'x'), /another order .* 1 of them \("stop"\)/);
  // repeated names (ImageNet's two cranes) keep their order
  assert.deepEqual(Array.from(mapClassesByName(['crane', 'b', 'crane'], ['b', 'crane', 'crane'], 'x')), [1, 0, 2]);
});

test('wds multilabel: the .npy 0/1 vectors are the targets, remapped with the classes', async () => {
  const pkg = readWdsPackage(path.join(FIX, 'voc-multilabel'));
  const want = manifest('voc-multilabel').test;
  const src = await openWdsSplit(pkg, 'test', { indexDir: tmpDir('wds-index') });
  assert.equal(src.targets?.nClasses, 20);
  assert.deepEqual(Array.from(src.targets!.data), want.flatMap((e) => e.target!));
  assert.deepEqual(Array.from(src.labels), [2, 7, 0, 11]);
  // reversed class list: column c moves to 19 - c
  const rev = await openWdsSplit(pkg, 'test', { indexDir: tmpDir('wds-index'), paperClasses: [...pkg.classes].reverse() });
  assert.deepEqual(Array.from(rev.targets!.data), want.flatMap((e) => [...e.target!].reverse()));
  assert.deepEqual(parseNpyVector(Buffer.from('nope')), 'not a .npy file');
});

test('wds bad packages: one-line errors naming the shard and sample, nothing kept for the bad shard', async () => {
  const cases: [string, RegExp][] = [
    ['bad-nolabel', /bad-nolabel\/test\/1\.tar: sample s0000002 has no label \(\.cls\)$/],
    ['bad-noimage', /bad-noimage\/test\/1\.tar: sample s0000002 has no image/],
    ['bad-label', /bad-label\/test\/1\.tar: sample s0000002: label 7 is outside classnames\.txt \(4 classes\)$/],
  ];
  for (const [name, re] of cases) {
    const indexDir = tmpDir('wds-index');
    await assert.rejects(openWdsSplit(readWdsPackage(path.join(FIX, name)), 'test', { indexDir }), (e: Error) => {
      assert.ok(e instanceof UserError, e.message);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    // shard 0 is fine and kept; nothing for shard 1
    assert.equal(fs.readdirSync(indexDir).length, 1, name);
  }
  // an image that does not decode: the error names the shard and member when the image is loaded
  const bi = await openWdsSplit(readWdsPackage(path.join(FIX, 'bad-image')), 'test', { indexDir: tmpDir('wds-index') });
  await assert.rejects(bi.load(2), (e: Error) => e instanceof UserError && /bad-image\/test\/1\.tar#s0000002\.jpg: cannot decode image/.test(e.message));

  // no nshards.txt
  const noN = copyPackage('shapes');
  fs.rmSync(path.join(noN, 'train', 'nshards.txt'));
  await assert.rejects(openWdsSplit(readWdsPackage(noN), 'train', { indexDir: tmpDir('wds-index') }), /split 'train': .*train\/nshards\.txt is missing \(the package has 'test'\)/);
  // a shard listed by nshards.txt but absent
  const fewer = copyPackage('shapes');
  fs.rmSync(path.join(fewer, 'test', '2.tar'));
  await assert.rejects(openWdsSplit(readWdsPackage(fewer), 'test', { indexDir: tmpDir('wds-index') }), /test\/2\.tar is missing \(test\/nshards\.txt says 3 shards\)/);

  // truncated: inside a member's data, and cleanly after the last member (no end-of-archive block)
  const full = fs.readFileSync(path.join(FIX, 'shapes', 'test', '1.tar'));
  const { members } = await scanTar(path.join(FIX, 'shapes', 'test', '1.tar'));
  const lastMember = members[members.length - 1];
  const cuts: [number, RegExp][] = [
    [members[1].offset + 10, /test\/1\.tar: truncated in s0000005\.(webp|png|jpg) /],
    [lastMember.offset + Math.ceil(lastMember.size / 512) * 512, /test\/1\.tar: truncated after s0000006\.\w+ \(no end-of-archive block/],
    [members[2].offset - 300, /test\/1\.tar: truncated after s0000005\.\w+/],
  ];
  for (const [len, re] of cuts) {
    const dir = copyPackage('shapes');
    fs.writeFileSync(path.join(dir, 'test', '1.tar'), full.subarray(0, len));
    const indexDir = tmpDir('wds-index');
    await assert.rejects(openWdsSplit(readWdsPackage(dir), 'test', { indexDir }), (e: Error) => e instanceof UserError && re.test(e.message));
    assert.equal(fs.readdirSync(indexDir).length, 1);
  }
  // a missing classnames.txt
  const noNames = copyPackage('reorder');
  fs.rmSync(path.join(noNames, 'classnames.txt'));
  assert.throws(() => readWdsPackage(noNames), /classnames\.txt is missing/);
});

test('wds dataset names: wds/<name> is clip-benchmark/wds_<name>, hf:<owner>/<repo>[@revision], wds needs a root', () => {
  const a = getDataset('wds/vtab/cifar10');
  assert.equal(a.name, 'wds/vtab/cifar10');
  assert.deepEqual(a.source, { kind: 'hub', repoId: 'clip-benchmark/wds_vtab-cifar10' });
  assert.equal(clipBenchmarkRepo('imagenet1k'), 'clip-benchmark/wds_imagenet1k');
  const b = getDataset('hf:Acme/My_Pkg@v1.2');
  assert.equal(b.name, 'hf:Acme/My_Pkg@v1.2');
  // hf: reads a WebDataset package or parquet shards, told apart by the repository's files (issue 23)
  assert.deepEqual(b.source, { kind: 'hub', repoId: 'Acme/My_Pkg', revision: 'v1.2', format: 'auto' });
  assert.deepEqual(getDataset('hf:acme/pkg').source, { kind: 'hub', repoId: 'acme/pkg', format: 'auto' });
  assert.throws(() => getDataset('hf:nope'), /--dataset hf:nope: expected hf:<owner>\/<repo>\[@revision\]/);
  assert.throws(() => getDataset('wds/'), /expected wds\/<name>/);
  const local = getDataset('wds');
  assert.deepEqual([local.source.kind, local.classOrigin, local.templates.length], ['user', 'data', 0]);
  // the paper's names are wired to CLIP_benchmark's packages
  assert.deepEqual(getDataset('caltech101').source, { kind: 'hub', repoId: 'clip-benchmark/wds_vtab-caltech101' });
});

test('wds: other package faults (retrieval type, unknown type, a label that is not a number, a .npy of the wrong length)', async () => {
  const make = async (files: Record<string, string | Buffer>, type?: string, classes = 'a\nb\n'): Promise<string> => {
    const dir = tmpDir('wds-fault');
    fs.writeFileSync(path.join(dir, 'classnames.txt'), classes);
    if (type) fs.writeFileSync(path.join(dir, 'dataset_type.txt'), `${type}\n`);
    fs.mkdirSync(path.join(dir, 'test'));
    fs.writeFileSync(path.join(dir, 'test', 'nshards.txt'), '1\n');
    const staging = tmpDir('wds-staging');
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(staging, name), data);
    await tar.c({ file: path.join(dir, 'test', '0.tar'), cwd: staging, portable: true }, Object.keys(files));
    return dir;
  };
  const png = Buffer.alloc(0); // never decoded: the faults are found when the shard is indexed
  const open = async (dir: string): Promise<unknown> => openWdsSplit(readWdsPackage(dir), 'test', { indexDir: tmpDir('wds-index') });
  await assert.rejects(open(await make({ 's0.cls': '0', 's0.png': png }, 'retrieval')), /a retrieval package .*dataset_type\.txt/);
  assert.throws(() => readWdsPackage(tmpDir('wds-empty')), /classnames\.txt is missing/);
  const unknownType = await make({ 's0.cls': '0', 's0.png': png }, 'segmentation');
  assert.throws(() => readWdsPackage(unknownType), /dataset_type\.txt: unknown dataset type 'segmentation'/);
  await assert.rejects(open(await make({ 's0.cls': 'cat', 's0.png': png })), /test\/0\.tar: sample s0: label "cat" in s0\.cls is not a class index/);
  const short = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([118, 0]), Buffer.from("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }".padEnd(117, ' ') + '\n', 'latin1'), Buffer.alloc(4)]);
  await assert.rejects(open(await make({ 's0.npy': short, 's0.png': png }, 'multilabel')), /sample s0: s0\.npy has 1 values for 2 classes in classnames\.txt/);
  await assert.rejects(open(await make({ 's0.cls': '0', 's0.png': png, 's1.png': png, 's1.cls': '1', 's0.jpg': png })), /sample s0 appears twice/);
});
