#!/usr/bin/env node
// Run an ONNX file on raw tensors with this repository's onnxruntime-node: the fallback of
// scripts/export_model.py's self-check where Python's onnxruntime is not installed.
//   node scripts/onnx_run.mjs SPEC.json
// SPEC: {"model": FILE, "inputs": {NAME: {"type": "float32"|"int64", "dims": [...], "file": RAW}}, "outputs": [NAME...]}
// writes NAME.bin (float32, little-endian) and NAME.json ({dims}) for each output, beside SPEC.json.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const specFile = process.argv[2];
const spec = JSON.parse(readFileSync(specFile, 'utf8'));
const session = await ort.InferenceSession.create(spec.model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
const feeds = {};
for (const [name, t] of Object.entries(spec.inputs)) {
  const buf = readFileSync(t.file);
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = t.type === 'int64' ? new BigInt64Array(bytes) : new Float32Array(bytes);
  feeds[name] = new ort.Tensor(t.type, data, t.dims);
}
const out = await session.run(feeds, spec.outputs);
for (const name of spec.outputs) {
  const t = out[name];
  if (t.type !== 'float32') throw new Error(`${spec.model}: output ${name} is ${t.type}, expected float32`);
  const dir = path.dirname(specFile);
  writeFileSync(path.join(dir, `${name}.bin`), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ dims: t.dims }));
}
