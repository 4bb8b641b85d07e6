#!/usr/bin/python3
"""Generate the tiny random-weight CLIP models that clip-bench's test suite loads.

    /usr/bin/python3 scripts/make_test_models.py [--out test/fixtures/models] [--seed 0]

Needs Debian's python3-torch (1.13) and python3-onnx; deterministic for a given seed.
Writes, in the Hugging Face / transformers.js layout:

  tiny-ids/                       text model with ONE input
    config.json, preprocessor_config.json (16 px), tokenizer.json, tokenizer_config.json
    onnx/text_model.onnx          input_ids int64 [batch_size, 77]      -> text_embeds float32 [batch_size, 16]
    onnx/vision_model.onnx        pixel_values float32 [batch_size,3,16,16] -> image_embeds float32 [batch_size, 16]
    onnx/vision_model_fp16.onnx   same graph, weights stored as float16 behind Cast nodes
                                  (inputs/outputs stay float32)
  tiny-ids-mask/                  text model with TWO inputs, transformers.js-style outputs
    config.json, preprocessor_config.json (16 px), tokenizer.json, tokenizer_config.json
    onnx/text_model.onnx          input_ids int64 [batch_size, sequence_length],
                                  attention_mask int64 [batch_size, sequence_length]
                                  -> text_embeds float32 [batch_size, 16],
                                     last_hidden_state float32 [batch_size, sequence_length, 16]
    onnx/vision_model.onnx        pixel_values float32 [batch_size,3,16,16]
                                  -> image_embeds float32 [batch_size, 16],
                                     last_hidden_state float32 [batch_size, 17, 16]
  reference_outputs.json          PyTorch outputs of every model on fixed inputs (golden values)

Models:
  * tiny-ids text: token embedding 49408 x 8 (the full CLIP vocabulary, so every real token id
    is valid) -> linear 8->16, learned positions, one causal pre-LN block, pooled at the EOT token
    (argmax of input_ids, as OpenAI CLIP), ln_final, projection 16->16.
  * tiny-ids-mask text: same embedding, one pre-LN block whose attention ignores keys with
    attention_mask == 0, then a mean over the positions with attention_mask == 1 -> projection.
    The mask therefore changes the result: passing an all-ones mask for a padded row gives a
    different embedding than the correct mask.  The sequence axis is dynamic, as in
    transformers.js exports.
  * vision (both): 16x16 input, 4x4 patches (16 + class token), width 16, one pre-LN block,
    ln_post on the class token, projection 16->16.

tokenizer.json is the HF "tokenizers" serialisation of OpenAI's BPE: vocabulary in the order
clip/simple_tokenizer.py builds it (256 byte-unicode characters, the same with "</w>", the
48,894 merges joined, then <|startoftext|> 49406 and <|endoftext|> 49407), merges as "a b".
It is built from bpe_simple_vocab_16e6.txt.gz (--bpe).
"""

import argparse
import os
import random
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_common as C  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB, CONTEXT = C.VOCAB_SIZE, C.CONTEXT_LENGTH
IMAGE_SIZE, PATCH, WIDTH, TOKEN_DIM, EMBED_DIM = 16, 4, 16, 8, 16


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------
class Block(nn.Module):
    """Pre-LN transformer block (GELU MLP); attn_bias is added to the attention logits."""

    def __init__(self, width, heads=2):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.fc, self.proj = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x, attn_bias=None):
        b, n, w = x.shape
        hd = w // self.heads
        qkv = self.qkv(self.ln_1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        att = (qkv[0] @ qkv[1].transpose(-1, -2)) * (hd ** -0.5)
        if attn_bias is not None:
            att = att + attn_bias
        y = (att.softmax(dim=-1) @ qkv[2]).transpose(1, 2).reshape(b, n, w)
        x = x + self.out_proj(y)
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


class TextBase(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(VOCAB, TOKEN_DIM)
        self.token_up = nn.Linear(TOKEN_DIM, WIDTH, bias=False)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT, WIDTH) * 0.1)
        self.block = Block(WIDTH)
        self.ln_final = nn.LayerNorm(WIDTH)
        self.text_projection = nn.Linear(WIDTH, EMBED_DIM, bias=False)

    def embed(self, input_ids):
        n = input_ids.shape[1]
        return self.token_up(self.token_embedding(input_ids)) + self.positional_embedding[:n]


class TextIds(TextBase):
    """input_ids [B,77] -> text_embeds: causal attention, pooled at EOT (argmax of ids)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("causal", torch.full((CONTEXT, CONTEXT), float("-inf")).triu_(1),
                             persistent=False)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.ln_final(self.block(self.embed(input_ids), self.causal[:n, :n]))
        eot = input_ids.argmax(dim=-1)
        x = x.gather(1, eot.view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return self.text_projection(x)


class TextIdsMask(TextBase):
    """(input_ids, attention_mask) -> (text_embeds, last_hidden_state); masked keys + masked mean."""

    def forward(self, input_ids, attention_mask):
        m = attention_mask.to(torch.float32)                          # [B, L]
        key_bias = ((1.0 - m) * -1e9)[:, None, None, :]               # [B, 1, 1, L]
        h = self.ln_final(self.block(self.embed(input_ids), key_bias))
        pooled = (h * m[:, :, None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)
        return self.text_projection(pooled), h


class Vision(nn.Module):
    def __init__(self, with_hidden):
        super().__init__()
        self.with_hidden = with_hidden
        self.conv1 = nn.Conv2d(3, WIDTH, kernel_size=PATCH, stride=PATCH, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(WIDTH) * 0.5)
        self.positional_embedding = nn.Parameter(torch.randn((IMAGE_SIZE // PATCH) ** 2 + 1, WIDTH) * 0.1)
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.block = Block(WIDTH)
        self.ln_post = nn.LayerNorm(WIDTH)
        self.visual_projection = nn.Linear(WIDTH, EMBED_DIM, bias=False)

    def forward(self, pixel_values):
        x = self.conv1(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.positional_embedding
        h = self.block(self.ln_pre(x))
        emb = self.visual_projection(self.ln_post(h[:, 0]))
        return (emb, h) if self.with_hidden else emb


def randomise(module):
    """Random weights with a spread large enough that different inputs give clearly different outputs."""
    for name, p in module.named_parameters():
        if "ln_" in name:
            continue
        if name.endswith("bias"):
            nn.init.normal_(p, std=0.02)
        elif name != "positional_embedding" and name != "class_embedding":
            nn.init.normal_(p, std=0.3 if "token_embedding" in name else 0.25)


# ---------------------------------------------------------------------------------------
# Export helpers
# ---------------------------------------------------------------------------------------
def export(module, args, path, input_names, output_names, dynamic_axes):
    import onnx
    module.eval()
    torch.onnx.export(module, args, path, opset_version=17, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def to_fp16_weights(src, dst):
    """Store every float32 initializer as float16 and Cast it back to float32 inside the graph."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    model = onnx.load(src)
    g = model.graph
    casts, new_inits = [], []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT:
            new_inits.append(init)
            continue
        arr = numpy_helper.to_array(init).astype(np.float16)
        half = numpy_helper.from_array(arr, init.name + "_fp16")
        new_inits.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "_cast"))
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)               # casts first keeps the graph topologically sorted
    onnx.checker.check_model(model)
    onnx.save(model, dst)


def golden_pixels(n):
    """Deterministic test images, exactly representable in float32: values in [-1, 1] step 1/8."""
    k, c, y, x = torch.meshgrid(*[torch.arange(s) for s in (n, 3, IMAGE_SIZE, IMAGE_SIZE)], indexing="ij")
    return (((k * 7 + c * 3 + y * 5 + x) % 17).float() - 8) / 8


def write_configs(out_dir, name, inputs_desc):
    layers = {"width": WIDTH, "layers": 1, "heads": 2}
    config = C.hf_clip_config(
        EMBED_DIM, IMAGE_SIZE, layers, {"patch": PATCH, **layers},
        {"image_size": IMAGE_SIZE, "context_length": CONTEXT, "embed_dim": EMBED_DIM,
         "description": f"test fixture '{name}': random weights, {inputs_desc}; "
                        "generated by scripts/make_test_models.py"},
        pad_token_id=1, logit_scale_init=2.6592)
    C.write_model_configs(out_dir, config, IMAGE_SIZE)


# clip.tokenize rows (OpenAI: [SOT] + ids + [EOT], right-padded with 0) for the golden texts;
# ids as in test/fixtures/tokenizer_test_vectors.json ("a dog", "a photo of a tench.").
GOLDEN_TEXTS = {"a dog": [320, 1929], "a photo of a tench.": [320, 1125, 539, 320, 1149, 634, 269]}


def main():
    ap = argparse.ArgumentParser(description="Generate tiny random CLIP test models.")
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "models"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bpe", default=C.DEFAULT_BPE)
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    tokenizer_json = C.hf_tokenizer_json(args.bpe)
    ids = C.token_rows(list(GOLDEN_TEXTS.values()))
    mask = (ids != 0).long()
    pix = golden_pixels(2)
    golden = {
        "_about": "PyTorch outputs of the fixture models (scripts/make_test_models.py). pixel_values: "
                  "float32 [2,3,16,16] with value ((n*7 + c*3 + y*5 + x) % 17 - 8) / 8 at [n,c,y,x]. "
                  "input_ids: clip.tokenize rows (pad 0) of `texts`; attention_mask = input_ids != 0.",
        "texts": list(GOLDEN_TEXTS),
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "pixel_values_formula": "((n*7 + c*3 + y*5 + x) % 17 - 8) / 8",
        "models": {},
    }
    dyn_b = {0: "batch_size"}

    # ---- tiny-ids
    d = os.path.join(args.out, "tiny-ids")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "onnx"))
    text, vis = TextIds(), Vision(with_hidden=False)
    randomise(text)
    randomise(vis)
    export(text, (ids,), os.path.join(d, "onnx", "text_model.onnx"), ["input_ids"], ["text_embeds"],
           {"input_ids": dyn_b, "text_embeds": dyn_b})
    export(vis, (pix,), os.path.join(d, "onnx", "vision_model.onnx"), ["pixel_values"], ["image_embeds"],
           {"pixel_values": dyn_b, "image_embeds": dyn_b})
    to_fp16_weights(os.path.join(d, "onnx", "vision_model.onnx"), os.path.join(d, "onnx", "vision_model_fp16.onnx"))
    with torch.no_grad():
        # the fp16 variant computes in float32 with float16-rounded weights
        vis16 = Vision(with_hidden=False)
        vis16.load_state_dict({k: v.half().float() for k, v in vis.state_dict().items()})
        golden["models"]["tiny-ids"] = {
            "text_embeds": text(ids).tolist(),
            "image_embeds": vis(pix).tolist(),
            "image_embeds_fp16": vis16.eval()(pix).tolist(),
        }
    write_configs(d, "tiny-ids", "text model input: input_ids only (pooled at EOT)")
    C.write_tokenizer_files(d, tokenizer_json)

    # ---- tiny-ids-mask
    d = os.path.join(args.out, "tiny-ids-mask")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "onnx"))
    text, vis = TextIdsMask(), Vision(with_hidden=True)
    randomise(text)
    randomise(vis)
    dyn_bs = {0: "batch_size", 1: "sequence_length"}
    export(text, (ids, mask), os.path.join(d, "onnx", "text_model.onnx"), ["input_ids", "attention_mask"],
           ["text_embeds", "last_hidden_state"],
           {"input_ids": dyn_bs, "attention_mask": dyn_bs, "text_embeds": dyn_b, "last_hidden_state": dyn_bs})
    export(vis, (pix,), os.path.join(d, "onnx", "vision_model.onnx"), ["pixel_values"],
           ["image_embeds", "last_hidden_state"],
           {"pixel_values": dyn_b, "image_embeds": dyn_b, "last_hidden_state": dyn_b})
    with torch.no_grad():
        t_emb, _ = text(ids, mask)
        t_emb_ones, _ = text(ids, torch.ones_like(mask))
        golden["models"]["tiny-ids-mask"] = {
            "text_embeds": t_emb.tolist(),
            "text_embeds_with_all_ones_mask": t_emb_ones.tolist(),
            "image_embeds": vis(pix)[0].tolist(),
        }
    write_configs(d, "tiny-ids-mask", "text model inputs: input_ids + attention_mask (masked mean pool)")
    C.write_tokenizer_files(d, tokenizer_json)

    C.write_json(os.path.join(args.out, "reference_outputs.json"), golden)
    total = 0
    for root, _, files in os.walk(args.out):
        for f in sorted(files):
            p = os.path.join(root, f)
            total += os.path.getsize(p)
            print(f"{os.path.relpath(p, args.out):40s} {os.path.getsize(p):>10,d}")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
