import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../src/errors.js';
import { getDataset } from '../../src/data/registry.js';
import { parseClassNames, readClassNames } from '../../src/data/classnames.js';
import { parseCsv } from '../../src/util/csv.js';
import { tmpDir } from '../support/data-files.js';

/** A w x h RGB PNG whose pixel (y, x) is [x*10, y*10, 77]. */
async function writePng(file: string, w: number, h: number): Promise<void> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([x * 10, y * 10, 77], (y * w + x) * 3);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}
async function writeJpeg(file: string, grey: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: grey, g: grey, b: grey } } }).jpeg({ quality: 95 }).toFile(file);
}

async function makeFolder(): Promise<string> {
  const root = tmpDir('imagefolder');
  await writePng(path.join(root, 'train', 'dog', 'a.png'), 5, 4);
  await writeJpeg(path.join(root, 'train', 'cat', 'b.JPG'), 200);
  await writeJpeg(path.join(root, 'train', 'cat', 'nested', 'c.jpeg'), 10);
  fs.writeFileSync(path.join(root, 'train', 'cat', 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(root, 'train', 'cat', '.hidden.png'), 'ignored');
  await writePng(path.join(root, 'test', 'dog', 'z.png'), 3, 3);
  await writeJpeg(path.join(root, 'test', 'bird', 'y.jpg'), 128); // 'bird' only in test
  return root;
}

test('imagefolder: sorted class folders (union over splits), nested images, decoded pixels', async () => {
  const root = await makeFolder();
  const spec = getDataset('imagefolder');
  assert.equal(spec.templates.length, 80);
  const train = await spec.open(root, 'train');
  assert.deepEqual(train.classes, ['bird', 'cat', 'dog']);
  assert.equal(train.n, 3);
  assert.deepEqual([...train.labels], [1, 1, 2]);
  assert.match(train.describe(0), /cat[\\/]b\.JPG$/);
  assert.match(train.describe(1), /cat[\\/]nested[\\/]c\.jpeg$/);
  const png = await train.load(2);
  assert.deepEqual([png.width, png.height, png.channels], [5, 4, 3]);
  assert.deepEqual([...png.data.subarray((2 * 5 + 3) * 3, (2 * 5 + 3) * 3 + 3)], [30, 20, 77]);
  const jpg = await train.load(0);
  assert.ok(Math.abs(jpg.data[0]! - 200) <= 3);
  const t = await spec.open(root, 'test');
  assert.deepEqual([...t.labels], [0, 2]);
  await assert.rejects(spec.open(root, 'val'), (e: unknown) => e instanceof UserError && /'train', 'test'|'test', 'train'/.test(e.message));
  await assert.rejects(spec.open(path.join(root, 'nope'), 'train'), (e: unknown) => e instanceof UserError && /does not exist/.test(e.message));
});

test('imagefolder: a class-names file names the classes by index; count must match', async () => {
  const root = await makeFolder();
  const dir = tmpDir('cn');
  const good = path.join(dir, 'names.txt');
  fs.writeFileSync(good, 'a bird\r\na cat\r\na dog\r\n');
  const spec = getDataset('imagefolder', { classnamesFile: good });
  assert.deepEqual(spec.classes, ['a bird', 'a cat', 'a dog']);
  assert.deepEqual((await spec.open(root, 'train')).classes, ['a bird', 'a cat', 'a dog']);
  const short = path.join(dir, 'short.json');
  fs.writeFileSync(short, '["x", "y"]');
  await assert.rejects(getDataset('imagefolder', { classnamesFile: short }).open(root, 'train'), (e: unknown) => e instanceof UserError && e.message.includes(short) && /2 class names/.test(e.message));
  // ROOT/classnames.txt is picked up without --classnames
  fs.writeFileSync(path.join(root, 'classnames.txt'), 'B\nC\nD\n');
  assert.deepEqual((await getDataset('imagefolder').open(root, 'test')).classes, ['B', 'C', 'D']);
  // a corrupt image fails at load() naming the file
  fs.writeFileSync(path.join(root, 'test', 'dog', 'broken.png'), 'not png');
  const t = await getDataset('imagefolder').open(root, 'test');
  const i = [...Array(t.n).keys()].find((k) => t.describe(k).endsWith('broken.png'))!;
  await assert.rejects(t.load(i), (e: unknown) => e instanceof UserError && e.message.includes('broken.png'));
});

test('classnames: blank and duplicate lines are reported with line numbers', () => {
  assert.deepEqual(parseClassNames('cat\ndog\n', 'f.txt'), ['cat', 'dog']);
  assert.deepEqual(parseClassNames('["cat","dog"]', 'f.json'), ['cat', 'dog']);
  assert.throws(() => parseClassNames('cat\n\ndog\n  \n', 'f.txt'), (e: unknown) => e instanceof UserError && /f\.txt: blank class name at line 2, line 4$/.test(e.message));
  assert.throws(() => parseClassNames('cat\ndog\ncat\nbird\ndog', 'f.txt'), (e: unknown) => e instanceof UserError && e.message.includes('"cat" at line 1 and line 3') && e.message.includes('"dog" at line 2 and line 5'));
  assert.throws(() => parseClassNames('["a", "", "a"]', 'f.json'), (e: unknown) => e instanceof UserError && /entry \[1\]/.test(e.message));
  assert.throws(() => parseClassNames('["a", "b", "a"]', 'f.json'), (e: unknown) => e instanceof UserError && /entry \[0\] and entry \[2\]/.test(e.message));
  assert.throws(() => parseClassNames('[1, 2]', 'f.json'), UserError);
  assert.throws(() => parseClassNames('', 'f.txt'), (e: unknown) => e instanceof UserError && /no class names/.test(e.message));
  assert.throws(() => readClassNames('/nonexistent/classes.txt'), (e: unknown) => e instanceof UserError && e.message.includes('/nonexistent/classes.txt'));
  const f = path.join(tmpDir('cn-dup'), 'dup.txt');
  fs.writeFileSync(f, 'x\ny\nx\n');
  assert.throws(() => getDataset('csv', { classnamesFile: f }), (e: unknown) => e instanceof UserError && e.message.includes(f) && /line 1 and line 3/.test(e.message));
});

test('csv: path,label manifest with index or name labels, paths relative to the manifest', async () => {
  const root = tmpDir('csv');
  await writePng(path.join(root, 'imgs', 'one.png'), 4, 4);
  await writeJpeg(path.join(root, 'imgs', 'two, with comma.jpg'), 50);
  fs.writeFileSync(path.join(root, 'classnames.txt'), 'apple\nbanana\ncherry\n');
  fs.writeFileSync(path.join(root, 'test.csv'), 'path,label\r\nimgs/one.png,2\r\n"imgs/two, with comma.jpg",banana\r\n\r\n');
  const spec = getDataset('csv');
  const src = await spec.open(root, 'test');
  assert.equal(src.n, 2);
  assert.deepEqual([...src.labels], [2, 1]);
  assert.deepEqual(src.classes, ['apple', 'banana', 'cherry']);
  const img = await src.load(0);
  assert.deepEqual([img.width, img.height, img.data[(1 * 4 + 3) * 3]], [4, 4, 30]);
  assert.match(src.describe(1), /two, with comma\.jpg$/);
  // headerless, and errors name the manifest line
  fs.writeFileSync(path.join(root, 'train.csv'), 'imgs/one.png,0\nimgs/one.png,durian\n');
  await assert.rejects(spec.open(root, 'train'), (e: unknown) => e instanceof UserError && e.message.includes('train.csv:2') && /durian/.test(e.message));
  fs.writeFileSync(path.join(root, 'train.csv'), 'imgs/one.png,0\nimgs/gone.png,1\n');
  await assert.rejects(spec.open(root, 'train'), (e: unknown) => e instanceof UserError && e.message.includes('train.csv:2') && /gone\.png/.test(e.message));
  fs.writeFileSync(path.join(root, 'train.csv'), 'imgs/one.png,3\n');
  await assert.rejects(spec.open(root, 'train'), (e: unknown) => e instanceof UserError && /label 3/.test(e.message));
  await assert.rejects(spec.open(root, 'val'), (e: unknown) => e instanceof UserError && /no split 'val'/.test(e.message));
  fs.rmSync(path.join(root, 'classnames.txt'));
  await assert.rejects(spec.open(root, 'test'), (e: unknown) => e instanceof UserError && /--classnames/.test(e.message));
  // fingerprint changes when an image changes
  const cn = path.join(root, 'names.txt');
  fs.writeFileSync(cn, 'apple\nbanana\ncherry\n');
  const withFile = getDataset('csv', { classnamesFile: cn });
  const f1 = (await withFile.open(root, 'test')).fingerprint;
  assert.equal((await withFile.open(root, 'test')).fingerprint, f1);
  await writePng(path.join(root, 'imgs', 'one.png'), 6, 6);
  assert.notEqual((await withFile.open(root, 'test')).fingerprint, f1);
});

test('parseCsv: quotes, escaped quotes, CRLF, blank lines, unterminated quote', () => {
  assert.deepEqual(parseCsv('a,"b ""q"" c"\r\n\r\n"multi\nline",2\n', 'm.csv'), [
    { line: 1, fields: ['a', 'b "q" c'] },
    { line: 3, fields: ['multi\nline', '2'] },
  ]);
  assert.throws(() => parseCsv('a,"open\n', 'm.csv'), (e: unknown) => e instanceof UserError && /m\.csv:1/.test(e.message));
});
