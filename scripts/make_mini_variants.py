#!/usr/bin/env python3
"""Weight-only fp16 and int8 exports of a CLIP model directory's ONNX files (default: the built-in mini model).

    /usr/bin/python3 scripts/make_mini_variants.py                       # q8 into models/mini/onnx/
    /usr/bin/python3 scripts/make_mini_variants.py --dtype fp16,q8 --out /tmp/mini-variants

Needs Debian's python3-onnx and python3-numpy. Writes, in the Hugging Face / transformers.js layout that
`--dtype` selects (src/model/model-dir.ts):
  fp16 -> onnx/{vision,text}_model_fp16.onnx: every float initializer stored as float16 and Cast back to float32
          where it is used, so inputs, outputs and arithmetic stay float32 and only the weights are rounded;
  q8   -> onnx/{vision,text}_model_quantized.onnx: every float initializer with >= 2 dimensions stored as int8
          with a symmetric per-channel scale (per output column of a MatMul weight, per row otherwise) and
          expanded by DequantizeLinear (opset >= 13), so only the weights lose precision.
With --out DIR other than the source, the model's config, preprocessing and tokenizer files are copied beside.
"""
import argparse
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SUFFIX = {"fp16": "_fp16", "q8": "_quantized"}
SIDE_FILES = ["config.json", "preprocessor_config.json", "tokenizer.json", "bpe_simple_vocab_16e6.txt.gz",
              "LICENSE-openai-clip.txt"]


def matmul_weight_names(graph):
    """Initializers used as the second input of a MatMul: [in, out] weights, quantized per output column."""
    return {n.input[1] for n in graph.node if n.op_type == "MatMul" and len(n.input) > 1}


def to_fp16(model):
    g = model.graph
    keep, casts = [], []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) <= 1:
            keep.append(init)
            continue
        w = numpy_helper.to_array(init)
        half = numpy_helper.from_array(w.astype(np.float16), init.name + "_fp16")
        keep.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "_cast"))
    return keep, casts


def to_q8(model):
    g = model.graph
    col = matmul_weight_names(g)
    keep, deq = [], []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or len(init.dims) < 2:
            keep.append(init)
            continue
        w = numpy_helper.to_array(init).astype(np.float64)
        axis = w.ndim - 1 if (init.name in col and w.ndim == 2) else 0
        other = tuple(a for a in range(w.ndim) if a != axis)
        amax = np.abs(w).max(axis=other)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        qi = numpy_helper.from_array(q, init.name + "_q8")
        si = numpy_helper.from_array(scale, init.name + "_scale")
        zi = numpy_helper.from_array(np.zeros(scale.shape, np.int8), init.name + "_zero")
        keep += [qi, si, zi]
        deq.append(helper.make_node("DequantizeLinear", [qi.name, si.name, zi.name], [init.name], axis=axis,
                                    name=init.name + "_dequantize"))
    return keep, deq


def convert(src, dst, dtype):
    model = onnx.load(src)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if dtype == "q8" and opset < 13:
        raise SystemExit(f"{src}: opset {opset} < 13 has no per-axis DequantizeLinear")
    inputs = {i.name for i in model.graph.input}
    if any(i.name in inputs for i in model.graph.initializer):
        raise SystemExit(f"{src}: initializers listed as graph inputs are not supported")
    inits, nodes = (to_fp16 if dtype == "fp16" else to_q8)(model)
    g = model.graph
    del g.initializer[:]
    g.initializer.extend(inits)
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)  # the weight nodes first: the graph stays topologically sorted
    model.producer_name = "clip-bench scripts/make_mini_variants.py"
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return os.path.getsize(src), os.path.getsize(dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "models", "mini"))
    ap.add_argument("--out", help="model directory to write (default: the source directory)")
    ap.add_argument("--dtype", default="q8", help="comma-separated: fp16, q8")
    args = ap.parse_args()
    out = args.out or args.model_dir
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    if os.path.abspath(out) != os.path.abspath(args.model_dir):
        for f in SIDE_FILES:
            if os.path.exists(os.path.join(args.model_dir, f)):
                shutil.copy(os.path.join(args.model_dir, f), os.path.join(out, f))
    for dtype in [d.strip() for d in args.dtype.split(",") if d.strip()]:
        if dtype not in SUFFIX:
            raise SystemExit(f"--dtype {dtype}: expected fp16 or q8")
        for part in ("vision_model", "text_model"):
            src = os.path.join(args.model_dir, "onnx", part + ".onnx")
            dst = os.path.join(out, "onnx", part + SUFFIX[dtype] + ".onnx")
            a, b = convert(src, dst, dtype)
            print(f"{dst}: {b / 1e6:.2f} MB (fp32 {a / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
