// hyparquet against parquet-wasm (Rust parquet via Arrow IPC) reading the image column of 2,000 rows (30-36 kB each,
// incompressible like encoded images, snappy) in row groups of 100, as clip-bench reads a split: row group by row group.
// parquet-wasm is not a dependency: npm install --no-save parquet-wasm@0.7.1 apache-arrow && node scripts/bench_parquet.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

const { parquetWriteBuffer } = await import('hyparquet-writer');
const { parquetMetadata, parquetReadObjects } = await import('hyparquet');
const { compressors } = await import('hyparquet-compressors');
const pw = await import('parquet-wasm/esm');
pw.initSync({ module: fs.readFileSync(createRequire(import.meta.url).resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
const { tableFromIPC } = await import('apache-arrow');
const N = 2000, PER = 100;
const file = path.join(os.tmpdir(), 'clip-bench-bench-parquet.parquet');
if (!fs.existsSync(file)) {
  const images = Array.from({ length: N }, (_, i) => ({ bytes: new Uint8Array(randomBytes(30000 + (i % 7) * 1000)), path: `${i}.jpg` }));
  const buf = parquetWriteBuffer({
    columnData: [{ name: 'image', data: images }, { name: 'label', data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % 10)) }],
    schema: [{ name: 'schema', num_children: 2 }, { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 }, { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' }, { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }, { name: 'label', type: 'INT64', repetition_type: 'OPTIONAL' }],
    codec: 'SNAPPY', rowGroupSize: PER,
  });
  fs.writeFileSync(file, Buffer.from(buf));
}
const bytes = fs.readFileSync(file);
const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const md = parquetMetadata(ab);
const groups = md.row_groups.length;
let total = 0;
const t0 = performance.now();
for (let g = 0; g < groups; g++) {
  const rows = await parquetReadObjects({ file: ab, metadata: md, columns: ['image'], rowStart: g * PER, rowEnd: (g + 1) * PER, compressors, utf8: false });
  for (const r of rows) total += r.image.bytes.length;
}
const t1 = performance.now();
let total2 = 0;
const u8 = new Uint8Array(bytes);
for (let g = 0; g < groups; g++) {
  const t = pw.readParquet(u8, { rowGroups: [g], columns: ['image'] });
  const table = tableFromIPC(t.intoIPCStream());
  const col = table.getChild('image');
  for (let i = 0; i < table.numRows; i++) total2 += col.get(i).bytes.length;
}
const t2 = performance.now();
console.log(JSON.stringify({ rows: N, rowGroup: PER, MB: +(bytes.length / 1e6).toFixed(1), hyparquet_ms: +(t1 - t0).toFixed(0), parquet_wasm_ms: +(t2 - t1).toFixed(0), same: total === total2 }));
