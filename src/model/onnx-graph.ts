/**
 * Reading and editing an ONNX graph at load time, at the protobuf level (no ONNX package in Node): enough to
 * add a graph output (the tensor that feeds the final projection: the paper's pre-projection features I_f) and
 * to cut one tower out of a combined CLIP graph (optimum's `model.onnx`, text and image inputs in one graph).
 * Edited messages keep every untouched node, initializer and value-info byte for byte; only the lists change.
 *
 * Field numbers (onnx/onnx.proto3): ModelProto.graph=7; GraphProto node=1, initializer=5, input=11, output=12,
 * value_info=13; NodeProto input=1, output=2, op_type=4, attribute=5; TensorProto name=8, data_location=14;
 * ValueInfoProto name=1, type=2; TypeProto.tensor_type=1 {elem_type=1}.
 */
import { UserError } from '../errors.js';

/** A protobuf field as it sits in its message: number, wire type, and its bytes (the whole field, tag included). */
interface Field {
  num: number;
  wire: number;
  /** the field's payload (length-delimited: the content; varint: the varint bytes) */
  body: Uint8Array;
  /** the field as written, tag and all */
  raw: Uint8Array;
}

function readVarint(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const byte = b[pos++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, pos];
    mul *= 128;
  }
}

function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const [tag, p] = readVarint(b, pos);
    pos = p;
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    let bodyStart = pos;
    if (wire === 0) pos = readVarint(b, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = readVarint(b, pos);
      bodyStart = q;
      pos = q + len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > b.length) throw new Error('truncated protobuf field');
    out.push({ num, wire, body: b.subarray(bodyStart, pos), raw: b.subarray(start, pos) });
  }
  return out;
}

const utf8 = new TextDecoder();
const str = (f: Field) => utf8.decode(f.body);

function varintBytes(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/** A length-delimited field holding `parts` concatenated. */
function lenField(num: number, parts: Uint8Array[]): Uint8Array[] {
  const len = parts.reduce((s, p) => s + p.length, 0);
  return [Uint8Array.from([...varintBytes(num * 8 + 2), ...varintBytes(len)]), ...parts];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  raw: Uint8Array;
}

/** The graph of a model: nodes, initializer names, inputs and outputs (with their raw messages). */
export interface OnnxGraph {
  nodes: GraphNode[];
  initializers: Map<string, Uint8Array>;
  inputs: { name: string; raw: Uint8Array }[];
  outputs: { name: string; raw: Uint8Array }[];
  /** value_info entries by name (types of intermediate tensors, where the exporter wrote them) */
  valueInfo: Map<string, Uint8Array>;
  /** the model's fields other than the graph, and the graph's fields other than the lists above */
  modelRest: Field[];
  graphRest: Field[];
  /** whether an initializer's data lives in an external file (the edited bytes then cannot stand alone) */
  externalData: boolean;
}

/** Parse a ModelProto's graph; `file` names it in errors. */
export function readGraph(bytes: Uint8Array, file: string): OnnxGraph {
  try {
    const model = fields(bytes);
    const graphField = model.find((f) => f.num === 7 && f.wire === 2);
    if (!graphField) throw new Error('no graph');
    const g: OnnxGraph = {
      nodes: [],
      initializers: new Map(),
      inputs: [],
      outputs: [],
      valueInfo: new Map(),
      modelRest: model.filter((f) => f !== graphField),
      graphRest: [],
      externalData: false,
    };
    const nameOf = (f: Field, num: number) => str(fields(f.body).find((x) => x.num === num) ?? { body: new Uint8Array() } as Field);
    for (const f of fields(graphField.body)) {
      if (f.num === 1) {
        const node: GraphNode = { op: '', inputs: [], outputs: [], raw: f.raw };
        for (const x of fields(f.body)) {
          if (x.num === 1) node.inputs.push(str(x));
          else if (x.num === 2) node.outputs.push(str(x));
          else if (x.num === 4) node.op = str(x);
        }
        g.nodes.push(node);
      } else if (f.num === 5) {
        const tf = fields(f.body);
        if (tf.some((x) => x.num === 14 && x.wire === 0 && x.body[0] === 1)) g.externalData = true;
        g.initializers.set(str(tf.find((x) => x.num === 8)!), f.raw);
      } else if (f.num === 11) g.inputs.push({ name: nameOf(f, 1), raw: f.raw });
      else if (f.num === 12) g.outputs.push({ name: nameOf(f, 1), raw: f.raw });
      else if (f.num === 13) g.valueInfo.set(nameOf(f, 1), f.raw);
      else g.graphRest.push(f);
    }
    return g;
  } catch (e) {
    throw new UserError(`${file}: not a readable ONNX model (${(e as Error).message})`);
  }
}

/** The model bytes of `g` with its node, input and output lists replaced (initializers: those the nodes use). */
function writeModel(g: OnnxGraph, nodes: GraphNode[], inputs: Uint8Array[], outputs: Uint8Array[]): Uint8Array {
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const graphParts: Uint8Array[] = [
    ...nodes.map((n) => n.raw),
    ...g.graphRest.map((f) => f.raw),
    ...[...g.initializers].filter(([name]) => used.has(name)).map(([, raw]) => raw),
    ...inputs,
    ...outputs,
    ...[...g.valueInfo].filter(([name]) => used.has(name)).map(([, raw]) => raw),
  ];
  return concat([...g.modelRest.map((f) => f.raw), ...lenField(7, graphParts)]);
}

/** A graph output naming `tensor` (float32 unless value_info says otherwise; shape left to the runtime). */
function outputFor(g: OnnxGraph, tensor: string): Uint8Array {
  const known = g.valueInfo.get(tensor);
  if (known) return concat(lenField(12, [fields(known)[0]!.body]));
  const name = new TextEncoder().encode(tensor);
  const tensorType = concat(lenField(1, [Uint8Array.from([0x08, 1])])); // TypeProto.tensor_type { elem_type: FLOAT }
  return concat(lenField(12, [...lenField(1, [name]), ...lenField(2, [tensorType])]));
}

/** The nodes needed to compute `outputs` (in graph order), and the graph inputs they read. */
function cone(g: OnnxGraph, outputs: string[]): { nodes: GraphNode[]; inputs: string[] } {
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<GraphNode>();
  const reads = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    const n = producer.get(t);
    if (!n) {
      reads.add(t);
      continue;
    }
    if (keep.has(n)) continue;
    keep.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  const graphInputs = g.inputs.map((i) => i.name).filter((name) => reads.has(name) && !g.initializers.has(name));
  return { nodes: g.nodes.filter((n) => keep.has(n)), inputs: graphInputs };
}

/**
 * The tower of a combined graph that computes `outputs`: only its nodes, initializers and inputs (the image
 * tower of optimum's CLIP `model.onnx` reads pixel_values alone, so no text runs with it).
 */
export function extractTower(g: OnnxGraph, outputs: string[]): { bytes: Uint8Array; inputs: string[] } {
  const { nodes, inputs } = cone(g, outputs);
  const inputRaw = g.inputs.filter((i) => inputs.includes(i.name)).map((i) => i.raw);
  return { bytes: writeModel(g, nodes, inputRaw, outputs.map((o) => outputFor(g, o))), inputs };
}

/** The model with `tensor` added as a graph output (all nodes kept). */
export function withOutput(g: OnnxGraph, tensor: string): Uint8Array {
  return writeModel(g, g.nodes, g.inputs.map((i) => i.raw), [...g.outputs.map((o) => o.raw), outputFor(g, tensor)]);
}

const MATMUL_OPS = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'QLinearMatMul', 'MatMulNBits']);
/** ops a quantized or fp16 export puts between a pooled feature and the projection's matmul */
const QUANT_OPS = new Set(['DynamicQuantizeLinear', 'QuantizeLinear', 'Cast']);

/**
 * Find the final projection behind graph tensor `output` (e.g. image_embeds): the nearest matmul, searching
 * back from it, whose other operand is a constant (a weight). Returns the tensor the projection reads (the
 * pooled pre-projection features I_f) and the one it writes (the projected embedding before any normalisation).
 */
export function findProjection(g: OnnxGraph, output: string): { pooled: string; projected: string } | null {
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const constant = new Map<string, boolean>();
  const isConst = (t: string): boolean => {
    const known = constant.get(t);
    if (known !== undefined) return known;
    constant.set(t, false); // cycles cannot happen in a valid graph; this also bounds the recursion
    const n = producer.get(t);
    const c = g.initializers.has(t) || (n !== undefined && (n.op === 'Constant' || (n.inputs.length > 0 && n.inputs.every((i) => !i || isConst(i)))));
    constant.set(t, c);
    return c;
  };
  // breadth-first: the nearest matmul wins (a few ops away: normalisation, a bias, a dequantisation)
  let frontier = [output];
  const seen = new Set<string>();
  for (let depth = 0; depth < 12 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      if (seen.has(t)) continue;
      seen.add(t);
      const n = producer.get(t);
      if (!n) continue;
      if (MATMUL_OPS.has(n.op)) {
        const [a, b] = n.inputs as [string, string];
        const dataInput = n.op === 'QLinearMatMul' ? [n.inputs[0]!, n.inputs[3]!] : [a, b];
        const data = !isConst(dataInput[1]!) ? null : dataInput[0]!;
        if (data && !isConst(data)) return { pooled: unquantized(data), projected: n.outputs[0]! };
      }
      for (const i of n.inputs) if (i && !isConst(i)) next.push(i);
    }
    frontier = next;
  }
  return null;

  function unquantized(t: string): string {
    let cur = t;
    for (let n = producer.get(cur); n && QUANT_OPS.has(n.op); n = producer.get(cur)) cur = n.inputs[0]!;
    return cur;
  }
}
