#!/usr/bin/python3
"""Export a CLIP-family model to the layout clip-bench reads, then check the export against PyTorch.

    python3 scripts/export_model.py --open-clip ViT-B-32 --pretrained laion2b_s34b_b79k --out models/vit-b-32-laion2b
    python3 scripts/export_model.py --open-clip ViT-B-32 --checkpoint my-finetune.pt --out models/my-clip
    python3 scripts/export_model.py --openai-clip ViT-B/32 --out models/vit-b-32-openai
    python3 scripts/export_model.py --hf openai/clip-vit-base-patch32 --out models/clip-b32-hf   (CLIP or SigLIP)
    python3 scripts/export_model.py --clip-bench-ref test/fixtures/models/ref-tv --out /tmp/ref-tv-export

then `clip-bench zeroshot --model models/my-clip`. The last front end rebuilds the repository's own PyTorch
reference CLIP (scripts/make_reference_model.py) from its ONNX weights: it is how the shared core below is tested
on a machine that has torch but none of the libraries (test/fixtures/models/ref-tv-export, test/model/export.test.ts).

What it writes (the Hugging Face / transformers.js layout):
  onnx/vision_model.onnx   pixel_values [n,3,S,S] -> image_embeds [n,d] (the projected embedding) and
                           pooler_output [n,w] (the pooled features before the projection: the paper's I_f,
                           `clip-bench linear-probe --features pre-projection`)
  onnx/text_model.onnx     input_ids [n,L] (+ attention_mask where the model takes one) -> text_embeds [n,d]
  config.json              the family (model_type clip / siglip), widths, context length, logit scale, the source
  preprocessor_config.json derived from the model's own image transform (resize side and mode, interpolation,
                           centre crop, mean, std); a step clip-bench does not reproduce stops the export
  tokenizer files          OpenAI's bpe_simple_vocab_16e6.txt.gz (CLIP BPE, read bit-exactly by clip-bench) or
                           the model's tokenizer.json (SentencePiece / Gemma for SigLIP and SigLIP 2)
  export_check.json        the self-check: sample inputs, the PyTorch outputs, the largest ONNX - PyTorch difference

The self-check runs the written ONNX files (with Python's onnxruntime where installed, else with the
onnxruntime-node of this repository through scripts/onnx_run.mjs) on sample images passed through the model's
transform and on sample texts, compares every output with PyTorch's and prints the largest absolute difference;
it exits 1 when one exceeds --tolerance.

Each front end (from_open_clip, from_openai_clip, from_hf, from_clip_bench_ref) only says where the towers, the
projection, the transform and the tokenizer of its library are; everything else is the shared core.
What ran where: the core and the --clip-bench-ref front end run in this repository's tests (Debian's torch 1.13,
torchvision 0.14, onnx 1.12); the open_clip, clip and transformers front ends were written against those
libraries' documented APIs but could not be run here (the libraries cannot be installed on these machines).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OPSET = 17
SAMPLE_TEXTS = ["a photo of a dog.", "a black and white photo of the ankle boot.", "Zürich — 東京 🐕 café",
                "itap of a " + "very " * 40 + "long caption."]
# PIL resample codes (preprocessor_config.json `resample`) of torchvision's InterpolationMode names
PIL_RESAMPLE = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}


# ---------------------------------------------------------------------------------------------
# The shared core
# ---------------------------------------------------------------------------------------------
@dataclass
class Source:
    """What a front end hands the core."""
    name: str
    family: str                         # 'clip' (CLIP BPE) or 'siglip' (tokenizer.json, fixed-length padding)
    image: nn.Module                    # pixel_values -> (image_embeds, pooler_output), or (image_embeds,)
    text: nn.Module                     # input_ids[, attention_mask] -> text_embeds
    text_inputs: List[str]              # ['input_ids'] or ['input_ids', 'attention_mask']
    context_length: int
    tokenize: Callable                  # list of str -> (ids LongTensor [n, L], attention_mask LongTensor [n, L])
    write_tokenizer: Callable           # out_dir -> None
    pixels: Callable                    # list of PIL images -> float tensor [n, 3, S, S] (the model's own transform)
    preprocessor: dict                  # preprocessor_config.json
    logit_scale: float
    extra_config: dict = field(default_factory=dict)


class _Tower(nn.Module):
    """body(x) -> pooled; head(pooled) -> projected: exports both, the projected one first."""

    def __init__(self, body, head):
        super().__init__()
        self.body, self.head = body, head

    def forward(self, *inputs):
        pooled = self.body(*inputs)
        return self.head(pooled), pooled


class _Fn(nn.Module):
    """A plain function as a module (a projection by a parameter: x @ proj); the tracer records what it computes,
    the weights it reads included. `owner`: the library module it reads from (so .eval() reaches it)."""

    def __init__(self, fn, owner=None):
        super().__init__()
        self.fn = fn
        self.owner = owner

    def forward(self, *x):
        return self.fn(*x)


def preprocessor_from_transform(transform, size_hint=None):
    """preprocessor_config.json (CLIPImageProcessor fields) from a torchvision Compose such as open_clip's and
    OpenAI's: Resize, CenterCrop, RGB conversion, ToTensor, Normalize. Anything else is refused, not guessed."""
    from torchvision import transforms as T
    cfg = {"image_processor_type": "CLIPImageProcessor", "do_resize": False, "do_center_crop": False,
           "do_rescale": False, "do_normalize": False, "do_convert_rgb": False}
    def steps(t):
        return [s for inner in t.transforms for s in steps(inner)] if isinstance(t, T.Compose) else [t]
    for t in steps(transform):
        if isinstance(t, T.Resize):
            size = t.size
            if isinstance(size, int) or (isinstance(size, (list, tuple)) and len(size) == 1):
                cfg["size"] = {"shortest_edge": int(size if isinstance(size, int) else size[0])}
            elif isinstance(size, (list, tuple)) and len(size) == 2:
                # open_clip's resize_mode 'squash' (SigLIP): both sides set, no crop
                cfg["size"] = {"height": int(size[0]), "width": int(size[1])}
            else:
                raise SystemExit(f"export: Resize({size!r}) is not a resize clip-bench reproduces")
            if t.max_size is not None:
                raise SystemExit("export: Resize(max_size=...) is not a resize clip-bench reproduces")
            cfg["do_resize"] = True
            cfg["resample"] = PIL_RESAMPLE[t.interpolation.value]
        elif isinstance(t, T.CenterCrop):
            h, w = t.size if len(t.size) == 2 else (t.size[0], t.size[0])
            cfg["do_center_crop"] = True
            cfg["crop_size"] = {"height": int(h), "width": int(w)}
        elif isinstance(t, T.ToTensor):
            cfg["do_rescale"] = True
            cfg["rescale_factor"] = 1 / 255
        elif isinstance(t, T.Normalize):
            cfg["do_normalize"] = True
            cfg["image_mean"] = [float(x) for x in t.mean]
            cfg["image_std"] = [float(x) for x in t.std]
        elif getattr(t, "__name__", "").startswith("_convert") or "convert" in repr(t).lower():
            cfg["do_convert_rgb"] = True
        else:
            raise SystemExit(f"export: the image transform step {t!r} is not one clip-bench reproduces "
                             "(it reads Resize, CenterCrop, RGB conversion, ToTensor and Normalize)")
    return cfg


def sample_images(size=64):
    """Deterministic RGB test images of several shapes (so resize and crop both act)."""
    from PIL import Image
    out = []
    for k, (h, w) in enumerate([(size, size), (size * 3 // 4, size), (size, size // 2 + 3)]):
        y, x = np.mgrid[0:h, 0:w]
        rgb = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x * 7 + y * 13 + 50 * k) % 256)], -1)
        out.append(Image.fromarray(rgb.astype(np.uint8), "RGB"))
    return out


def export_towers(src: Source, out: str, pixels, ids, mask):
    import onnx
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    vision_path = os.path.join(onnx_dir, "vision_model.onnx")
    text_path = os.path.join(onnx_dir, "text_model.onnx")
    batch = {0: "batch_size"}
    image_outputs = image_output_names(src, pixels)
    # traced with grad mode on: torch's fused inference paths (nn.MultiheadAttention) do not export
    torch.onnx.export(src.image.eval(), (pixels,), vision_path, opset_version=OPSET,
                      input_names=["pixel_values"], output_names=image_outputs,
                      dynamic_axes={"pixel_values": batch, **{n: batch for n in image_outputs}})
    text_args = (ids, mask) if "attention_mask" in src.text_inputs else (ids,)
    torch.onnx.export(src.text.eval(), text_args, text_path, opset_version=OPSET,
                      input_names=src.text_inputs, output_names=["text_embeds"],
                      dynamic_axes={**{n: batch for n in src.text_inputs}, "text_embeds": batch})
    for p in (vision_path, text_path):
        onnx.checker.check_model(onnx.load(p))
    return vision_path, text_path


def image_output_names(src: Source, pixels):
    with torch.no_grad():
        n = len(src.image.eval()(pixels[:1]))
    return ["image_embeds", "pooler_output"][:n]


def write_configs(src: Source, out: str, embed_dim: int, pooled_dim):
    config = {
        "model_type": src.family,
        "projection_dim": embed_dim,
        "text_config": {"max_position_embeddings": src.context_length},
        "vision_config": {"hidden_size": pooled_dim},
        "clip_bench": {"exported_from": src.name, "context_length": src.context_length, "embed_dim": embed_dim,
                       "pooled_dim": pooled_dim, "logit_scale": src.logit_scale,
                       "exporter": "scripts/export_model.py", **src.extra_config},
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(src.preprocessor, f, indent=2)
        f.write("\n")


def run_onnx(path, feeds, outputs):
    """Outputs of an ONNX file: Python's onnxruntime where installed, else this repository's onnxruntime-node."""
    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return dict(zip(outputs, sess.run(outputs, feeds)))
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        spec = {"model": path, "outputs": outputs, "inputs": {}}
        for name, arr in feeds.items():
            f = os.path.join(tmp, name + ".bin")
            arr.tofile(f)
            spec["inputs"][name] = {"type": {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}[arr.dtype],
                                    "dims": list(arr.shape), "file": f}
        spec_file = os.path.join(tmp, "spec.json")
        with open(spec_file, "w") as f:
            json.dump(spec, f)
        subprocess.run(["node", os.path.join(HERE, "onnx_run.mjs"), spec_file], check=True)
        res = {}
        for name in outputs:
            meta = json.load(open(os.path.join(tmp, name + ".json")))
            res[name] = np.fromfile(os.path.join(tmp, name + ".bin"), dtype=np.float32).reshape(meta["dims"])
        return res


def export(src: Source, out: str, tolerance: float):
    os.makedirs(out, exist_ok=True)
    pixels = src.pixels(sample_images())
    ids, mask = src.tokenize(SAMPLE_TEXTS)
    vision_path, text_path = export_towers(src, out, pixels, ids, mask)
    src.write_tokenizer(out)
    image_outputs = image_output_names(src, pixels)
    with torch.no_grad():
        want_v = dict(zip(image_outputs, (t.numpy() for t in src.image.eval()(pixels))))
        txt_emb = src.text.eval()(*((ids, mask) if "attention_mask" in src.text_inputs else (ids,)))[0].numpy()
    img_emb, pooled = want_v["image_embeds"], want_v.get("pooler_output")
    write_configs(src, out, img_emb.shape[1], None if pooled is None else pooled.shape[1])

    # the self-check: the written files against PyTorch
    got_v = run_onnx(vision_path, {"pixel_values": pixels.numpy()}, image_outputs)
    text_feeds = {"input_ids": ids.numpy()}
    if "attention_mask" in src.text_inputs:
        text_feeds["attention_mask"] = mask.numpy()
    got_t = run_onnx(text_path, text_feeds, ["text_embeds"])
    diffs = {k: float(np.abs(got_v[k] - want_v[k]).max()) for k in image_outputs}
    diffs["text_embeds"] = float(np.abs(got_t["text_embeds"] - txt_emb).max())
    check = {
        "_about": "scripts/export_model.py self-check: PyTorch outputs on sample images (through the model's own "
                  "transform) and texts, and the largest |ONNX - PyTorch| of each output",
        "source": src.name, "texts": SAMPLE_TEXTS, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
        "pixel_values_shape": list(pixels.shape), "pixel_values": pixels.flatten().tolist(),
        "image_embeds": img_emb.tolist(), "pooler_output": None if pooled is None else pooled.tolist(),
        "text_embeds": txt_emb.tolist(),
        "max_abs_diff": diffs,
    }
    with open(os.path.join(out, "export_check.json"), "w") as f:
        json.dump(check, f)
    for name in (vision_path, text_path):
        print(f"wrote {os.path.relpath(name, out)} ({os.path.getsize(name) / 1e6:.1f} MB)")
    print(f"self-check on {pixels.shape[0]} images and {len(SAMPLE_TEXTS)} texts, largest |ONNX - PyTorch|:")
    for k, v in diffs.items():
        print(f"  {k:14s} {v:.2e}  {'ok' if v <= tolerance else 'ABOVE TOLERANCE'}")
    if max(diffs.values()) > tolerance:
        sys.exit(1)
    print(f"export ok: clip-bench zeroshot --model {out}")


# ---------------------------------------------------------------------------------------------
# Front ends: where each library keeps towers, projection, transform and tokenizer
# ---------------------------------------------------------------------------------------------
def _transform_pixels(transform):
    return lambda images: torch.stack([transform(im) for im in images])


def _bpe_tokenizer_source(bpe_path, tokenize, context_length):
    """CLIP BPE: OpenAI's merges file, read bit-exactly by clip-bench; no attention mask (pooled at argmax)."""
    def write(out):
        shutil.copyfile(bpe_path, os.path.join(out, "bpe_simple_vocab_16e6.txt.gz"))

    def tok(texts):
        ids = tokenize(texts)
        return ids, (ids != 0).long()
    return tok, write


def _open_clip_like(model, name, transform, tokenize, bpe_path, context_length, family="clip", hf_tokenizer=None):
    """open_clip and OpenAI's clip share the tower layout: visual.proj, encode_text."""
    visual = model.visual
    proj = getattr(visual, "proj", None)
    if isinstance(proj, nn.Parameter):
        visual.proj = None  # the tower now returns the pooled features; the projection is applied by _Tower
        image = _Tower(visual, _Fn(lambda x: x @ proj))
    else:
        # a ResNet (attention pooling ends in its own projection) or timm tower: the embedding only
        print(f"export: {name}'s image tower has no `proj` matrix: exporting image_embeds without pooler_output")
        image = _OneOutput(visual)
    text = _Fn(lambda ids: model.encode_text(ids), model)
    if hf_tokenizer is not None:
        def write(out):
            hf_tokenizer.save_pretrained(out)
        tok = lambda texts: (tokenize(texts), torch.ones(len(texts), context_length, dtype=torch.long))  # noqa: E731
    else:
        tok, write = _bpe_tokenizer_source(bpe_path, tokenize, context_length)
    return Source(name=name, family=family, image=image, text=_OneOutput(text), text_inputs=["input_ids"],
                  context_length=context_length, tokenize=tok, write_tokenizer=write,
                  pixels=_transform_pixels(transform), preprocessor=preprocessor_from_transform(transform),
                  logit_scale=float(model.logit_scale.exp()))


class _OneOutput(nn.Module):
    """A tower with one output, as a 1-tuple (text_embeds,) or (image_embeds,) for a uniform call."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *x):
        return (self.fn(*x),)


def from_open_clip(name, pretrained=None, checkpoint=None):
    import open_clip
    model, _, transform = open_clip.create_model_and_transforms(name, pretrained=checkpoint or pretrained)
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    ctx = getattr(tokenizer, "context_length", 77)
    hf = getattr(tokenizer, "tokenizer", None)
    family = "siglip" if "siglip" in name.lower() else "clip"
    return _open_clip_like(model, f"open_clip {name} {checkpoint or pretrained}", transform, tokenizer,
                           open_clip.tokenizer.default_bpe() if hf is None else None, ctx, family,
                           hf if hf is not None and hasattr(hf, "save_pretrained") else None)


def from_openai_clip(name):
    import clip
    model, transform = clip.load(name, device="cpu", jit=False)
    model = model.float().eval()
    bpe = os.path.join(os.path.dirname(clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    return _open_clip_like(model, f"clip {name}", transform, lambda t: clip.tokenize(t, truncate=True), bpe, 77)


def from_hf(model_id):
    import transformers
    model = transformers.AutoModel.from_pretrained(model_id).eval()
    processor = transformers.AutoProcessor.from_pretrained(model_id)
    siglip = "siglip" in model.config.model_type
    vm, tm = model.vision_model, model.text_model
    if siglip:
        # SigLIP has no projection after its attention-pooling head: the pooled output is the embedding
        image = _Tower(_Fn(lambda px: vm(pixel_values=px).pooler_output, vm), nn.Identity())
        text = _OneOutput(_Fn(lambda ids: tm(input_ids=ids).pooler_output, tm))
        inputs, ctx = ["input_ids"], model.config.text_config.max_position_embeddings
    else:
        image = _Tower(_Fn(lambda px: vm(pixel_values=px).pooler_output, vm), model.visual_projection)
        text = _OneOutput(_Fn(lambda ids, m: model.text_projection(tm(input_ids=ids, attention_mask=m).pooler_output),
                             model))
        inputs, ctx = ["input_ids", "attention_mask"], model.config.text_config.max_position_embeddings

    def tok(texts):
        enc = processor.tokenizer(texts, padding="max_length", max_length=ctx, truncation=True, return_tensors="pt")
        return enc["input_ids"], enc.get("attention_mask", torch.ones_like(enc["input_ids"]))

    def write(out):
        processor.tokenizer.save_pretrained(out)

    pre = processor.image_processor.to_dict()
    return Source(name=f"transformers {model_id}", family="siglip" if siglip else "clip", image=image, text=text,
                  text_inputs=inputs, context_length=ctx, tokenize=tok, write_tokenizer=write,
                  pixels=lambda images: processor.image_processor(images, return_tensors="pt")["pixel_values"],
                  preprocessor=pre, logit_scale=float(model.logit_scale.exp()))


def from_clip_bench_ref(model_dir):
    """The repository's own PyTorch reference CLIP (scripts/make_reference_model.py), weights from its ONNX files."""
    sys.path.insert(0, HERE)
    import clip_common as C
    import make_reference_model as M
    import reference_zeroshot as R
    model = M.load_from_onnx(model_dir)
    vit = model.visual.vit

    def pooled_image(px):
        x = vit._process_input(px)
        x = vit.encoder(torch.cat([vit.class_token.expand(x.shape[0], -1, -1), x], dim=1))
        return x[:, 0]

    tt = model.text

    def pooled_text(ids, mask):
        n = ids.shape[1]
        x = tt.encoder(tt.token_up(tt.token_embedding(ids)) + tt.positional_embedding[:n], mask=tt.causal_mask[:n, :n])
        return x.gather(1, (mask.sum(1) - 1).view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)

    image = _Tower(_Fn(pooled_image, model.visual), vit.heads)
    text = _OneOutput(_Fn(lambda ids, m: tt.proj(pooled_text(ids, m)), tt))
    tokenizer = C.SimpleTokenizer()

    def tok(texts):
        ids = C.clip_tokenize(tokenizer, texts, truncate=True)
        return ids, R.attention_mask_for(ids)

    def write(out):
        C.write_tokenizer_files(out, C.hf_tokenizer_json())

    transform = C.clip_transform(R.IMAGE_SIZE)
    return Source(name=f"clip-bench reference model {os.path.relpath(model_dir, REPO)}", family="clip", image=image,
                  text=text, text_inputs=["input_ids", "attention_mask"], context_length=C.CONTEXT_LENGTH,
                  tokenize=tok, write_tokenizer=write, pixels=_transform_pixels(transform),
                  preprocessor=preprocessor_from_transform(transform), logit_scale=float(model.logit_scale.exp()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--open-clip", metavar="NAME", help="open_clip model name, e.g. ViT-B-32 (with --pretrained or --checkpoint)")
    src.add_argument("--openai-clip", metavar="NAME", help="OpenAI clip model name, e.g. ViT-B/32")
    src.add_argument("--hf", metavar="ID", help="Hugging Face transformers CLIP or SigLIP model id or folder")
    src.add_argument("--clip-bench-ref", metavar="DIR", help="this repository's PyTorch reference CLIP (ref-tv)")
    ap.add_argument("--pretrained", help="open_clip pretrained tag, e.g. laion2b_s34b_b79k")
    ap.add_argument("--checkpoint", help="open_clip checkpoint file (a fine-tuned model)")
    ap.add_argument("--out", required=True, help="output folder (clip-bench --model OUT)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest |ONNX - PyTorch| accepted (default 1e-4)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: the same numbers on every run)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.open_clip:
        if not (args.pretrained or args.checkpoint):
            ap.error("--open-clip needs --pretrained TAG or --checkpoint FILE")
        source = from_open_clip(args.open_clip, args.pretrained, args.checkpoint)
    elif args.openai_clip:
        source = from_openai_clip(args.openai_clip)
    elif args.hf:
        source = from_hf(args.hf)
    else:
        source = from_clip_bench_ref(os.path.abspath(args.clip_bench_ref))
    export(source, args.out, args.tolerance)


if __name__ == "__main__":
    main()
