/**
 * A minimal protobuf encoder for the handful of ONNX messages needed to build
 * small compute graphs (MatMul/Gemm/Softmax/...) in memory at runtime, without
 * python or an ONNX builder package. Only the fields used here are encoded.
 *
 * Field numbers follow onnx/onnx.proto3 (IR version 8):
 *   ModelProto:        ir_version=1, producer_name=2, graph=7, opset_import=8
 *   OperatorSetIdProto domain=1, version=2
 *   GraphProto:        node=1, name=2, initializer=5, input=11, output=12
 *   NodeProto:         input=1, output=2, name=3, op_type=4, attribute=5
 *   AttributeProto:    name=1, f=2, i=3, ints=8, type=20
 *   ValueInfoProto:    name=1, type=2
 *   TypeProto:         tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1, dim_param=2 } } }
 *   TensorProto:       dims=1, data_type=2, name=8, raw_data=9
 */

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_DOUBLE = 11;

class Writer {
  private chunks: Uint8Array[] = [];
  private len = 0;

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.len += b.length;
  }

  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.bytes(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  uint(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.bytes(b);
  }

  lenDelim(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.bytes(b);
  }

  string(field: number, s: string): void {
    this.lenDelim(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.lenDelim(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: number;
  shape: Dim[];
}

export type AttrValue = { f: number } | { i: number } | { ints: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface InitializerSpec {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array;
}

export interface GraphSpec {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  opset?: number;
}

function writeValueInfo(w: Writer, field: number, v: ValueInfo): void {
  w.message(field, (vi) => {
    vi.string(1, v.name);
    vi.message(2, (tp) => {
      tp.message(1, (tt) => {
        tt.uint(1, v.elemType);
        tt.message(2, (sh) => {
          for (const d of v.shape) {
            sh.message(1, (dm) => {
              if (typeof d === 'number') dm.uint(1, d);
              else dm.string(2, d);
            });
          }
        });
      });
    });
  });
}

/** Encode a single-graph ONNX ModelProto (default domain, opset 17 unless given). */
export function encodeModel(g: GraphSpec): Uint8Array {
  const w = new Writer();
  w.uint(1, 8); // ir_version 8
  w.string(2, 'clip-bench');
  w.message(7, (gw) => {
    let k = 0;
    for (const n of g.nodes) {
      gw.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        nw.string(3, `n${k++}_${n.op}`);
        nw.string(4, n.op);
        for (const [name, a] of Object.entries(n.attrs ?? {})) {
          nw.message(5, (aw) => {
            aw.string(1, name);
            if ('f' in a) {
              aw.float(2, a.f);
              aw.uint(20, 1);
            } else if ('i' in a) {
              aw.uint(3, a.i);
              aw.uint(20, 2);
            } else {
              for (const x of a.ints) aw.uint(8, x);
              aw.uint(20, 7);
            }
          });
        }
      });
    }
    gw.string(2, g.name);
    for (const t of g.initializers ?? []) {
      gw.message(5, (tw) => {
        for (const d of t.dims) tw.uint(1, d);
        tw.uint(2, t.dataType);
        tw.string(8, t.name);
        tw.lenDelim(9, t.raw);
      });
    }
    for (const v of g.inputs) writeValueInfo(gw, 11, v);
    for (const v of g.outputs) writeValueInfo(gw, 12, v);
  });
  w.message(8, (ow) => {
    ow.string(1, '');
    ow.uint(2, g.opset ?? 17);
  });
  return w.finish();
}

/** An int64 1-D initializer (e.g. the `axes` input of ReduceSum). */
export function int64Initializer(name: string, values: number[]): InitializerSpec {
  const raw = new Uint8Array(values.length * 8);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return { name, dataType: ONNX_INT64, dims: [values.length], raw };
}
