#!/usr/bin/python3
"""Train the built-in `mini` CLIP on Fashion-MNIST and export it to ONNX.

Reproduce the committed model (Debian 12: python3-torch 1.13, python3-torchvision 0.14,
python3-onnx, dataset-fashion-mnist; 234 steps of batch 256.  The committed model took 25 min
of training on a 2-core machine shared with other jobs; ~2-3 s/step when the cores are free):

    /usr/bin/python3 scripts/train_mini.py --epochs 1 --seed 0 --out models/mini

Writes, in the Hugging Face / transformers.js CLIP layout:

    <out>/config.json               model_type "clip" + a "clip_bench" block
    <out>/preprocessor_config.json  CLIPImageProcessor fields (32 px, bicubic, CLIP mean/std)
    <out>/onnx/text_model.onnx      input_ids int64 [batch, 77]        -> text_embeds  float32 [batch, 128]
    <out>/onnx/vision_model.onnx    pixel_values float32 [batch,3,32,32] -> image_embeds float32 [batch, 128]
    <out>/README.md                 model card with the measured accuracy

The ONNX outputs are the projected, *unnormalised* embeddings (what OpenAI CLIP's
encode_text / encode_image return); callers L2-normalise them.

Model: a tiny CLIP.
  * image tower: ViT, 32x32 input, 8x8 patches (16 tokens; a small input keeps the default run fast), width 128, 4 pre-LN blocks,
    4 heads, MLP 512, GELU; mean over the tokens, ln_post, linear projection (no class token,
    see VisionTower).
  * text tower: causal pre-LN transformer, full CLIP BPE vocabulary (49408 tokens, context 77),
    width 128, 3 blocks, 4 heads; the token embedding is factorised (49408 x 32, then a
    32 -> 128 linear map) to keep the file small; pooled at the EOT token (argmax of
    input_ids, as OpenAI CLIP does), ln_final, linear projection.
  * learned temperature (logit_scale, initialised to log(1/0.07), clamped at log(100)),
    symmetric InfoNCE loss, batch 256, with label-aware targets: with 10 classes most pairs in a
    batch share a class, so same-class captions count as positives rather than false negatives.

Data: Fashion-MNIST train (60,000 images) paired with captions drawn at random from
templates x class-name synonyms.  Images are preprocessed exactly like clip-bench (and
OpenAI CLIP's _transform) does it: PIL image -> torchvision Resize(32, BICUBIC) ->
CenterCrop(32) -> convert("RGB") -> ToTensor -> Normalize(CLIP mean, std).  The resize
runs once up front; since a grey image converted to RGB has three equal channels, the
resized grey uint8 image is stored and the (bit-identical) RGB/ToTensor/Normalize steps
run per batch.

Determinism: python `random`, numpy and torch are seeded from --seed and
torch.use_deterministic_algorithms(True) is on.  Results are reproducible for a given
machine and thread count (torch.set_num_threads(--threads), default 2); a different thread
count or BLAS build may change the float summation order and hence the last bits.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_common as C  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_SIZE = 32
CONTEXT_LENGTH = C.CONTEXT_LENGTH
VOCAB_SIZE = C.VOCAB_SIZE

# Fashion-MNIST class names as clip-bench's zero-shot evaluation uses them (label order).
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Names used in training captions (the official name is always included).
SYNONYMS = [
    ["T-shirt/top", "t-shirt", "tee", "top"],
    ["Trouser", "trousers", "pants", "jeans"],
    ["Pullover", "sweater", "jumper"],
    ["Dress"],
    ["Coat", "jacket"],
    ["Sandal", "sandals"],
    ["Shirt"],
    ["Sneaker", "trainer", "running shoe"],
    ["Bag", "handbag"],
    ["Ankle boot", "boot"],
]
# Caption templates: plain ones, CIFAR-style ones and a selection of ImageNet's 80.
TEMPLATES = [
    "{}",
    "a photo of a {}.",
    "a photo of the {}.",
    "a picture of my {}.",
    "a photo of my {}.",
    "a black and white photo of a {}.",
    "a black and white photo of the {}.",
    "a low resolution photo of a {}.",
    "a low resolution photo of the {}.",
    "a blurry photo of a {}.",
    "a pixelated photo of the {}.",
    "a low contrast photo of a {}.",
    "a high contrast photo of the {}.",
    "a bad photo of the {}.",
    "a good photo of a {}.",
    "a photo of a small {}.",
    "a photo of the big {}.",
    "a close-up photo of a {}.",
    "a cropped photo of the {}.",
    "a dark photo of a {}.",
    "a bright photo of the {}.",
    "itap of a {}.",
    "a drawing of a {}.",
    "a sketch of the {}.",
    "a rendering of a {}.",
    "art of the {}.",
    "a {} in a video game.",
    "a origami {}.",
    "a photo of the clean {}.",
    "a photo of one {}.",
]
# Held-out template sets for reporting (CIFAR-10's 18 from the paper's prompts.md).
CIFAR_TEMPLATES = [
    "a photo of a {}.", "a blurry photo of a {}.", "a black and white photo of a {}.",
    "a low contrast photo of a {}.", "a high contrast photo of a {}.", "a bad photo of a {}.",
    "a good photo of a {}.", "a photo of a small {}.", "a photo of a big {}.",
    "a photo of the {}.", "a blurry photo of the {}.", "a black and white photo of the {}.",
    "a low contrast photo of the {}.", "a high contrast photo of the {}.",
    "a bad photo of the {}.", "a good photo of the {}.", "a photo of the small {}.",
    "a photo of the big {}.",
]


# ---------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------
class Block(nn.Module):
    """Pre-LN transformer block: x + Attn(LN(x)); x + MLP(LN(x)); GELU (erf) MLP."""

    def __init__(self, width, heads, mlp_ratio=4):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, mlp_ratio * width)
        self.proj = nn.Linear(mlp_ratio * width, width)

    def forward(self, x, attn_mask=None):
        b, n, w = x.shape
        hd = w // self.heads
        q, k, v = self.qkv(self.ln_1(x)).reshape(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (hd ** -0.5)
        if attn_mask is not None:
            att = att + attn_mask
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, w)
        x = x + self.out_proj(y)
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


class VisionTower(nn.Module):
    """ViT with global average pooling over the patch tokens (no class token).

    With a class token, ln_pre turns the (input-independent) class token into a large constant
    vector that dominates the residual stream at initialisation; all images then embed almost
    identically and contrastive training collapsed in short runs.  Mean pooling avoids that.
    """

    def __init__(self, image_size=32, patch=4, width=128, layers=4, heads=4, embed_dim=128):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        n_tokens = (image_size // patch) ** 2
        self.positional_embedding = nn.Parameter(torch.randn(n_tokens, width) * 0.02)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim, bias=False)

    def forward(self, pixel_values):
        x = self.conv1(pixel_values).flatten(2).transpose(1, 2)      # [B, 64, W]
        x = self.ln_pre(x + self.positional_embedding)
        for blk in self.blocks:
            x = blk(x)
        return self.proj(self.ln_post(x.mean(dim=1)))


class TextTower(nn.Module):
    def __init__(self, vocab=VOCAB_SIZE, context=CONTEXT_LENGTH, token_dim=32, width=128,
                 layers=3, heads=4, embed_dim=128):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, token_dim)      # factorised embedding
        self.token_up = nn.Linear(token_dim, width, bias=False)
        self.positional_embedding = nn.Parameter(torch.randn(context, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.proj = nn.Linear(width, embed_dim, bias=False)
        mask = torch.full((context, context), float("-inf")).triu_(1)   # causal
        self.register_buffer("attn_mask", mask, persistent=False)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.token_up(self.token_embedding(input_ids)) + self.positional_embedding[:n]
        mask = self.attn_mask[:n, :n]
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.ln_final(x)
        # pool at the EOT token: the highest id in each row (OpenAI CLIP: argmax)
        eot = input_ids.argmax(dim=-1)
        x = x.gather(1, eot.view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return self.proj(x)


class MiniCLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        v, t = cfg["vision"], cfg["text"]
        self.visual = VisionTower(IMAGE_SIZE, v["patch"], v["width"], v["layers"], v["heads"],
                                  cfg["embed_dim"])
        self.text = TextTower(VOCAB_SIZE, CONTEXT_LENGTH, t["token_dim"], t["width"],
                              t["layers"], t["heads"], cfg["embed_dim"])
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        # Linear/conv layers keep PyTorch's default (fan-in) init: block outputs are then large
        # relative to the small embeddings, so inputs visibly change the output at step 0.
        nn.init.normal_(self.text.token_embedding.weight, std=0.1)


MODEL_CFG = {
    "embed_dim": 128,
    "vision": {"patch": 8, "width": 128, "layers": 4, "heads": 4},
    "text": {"token_dim": 32, "width": 128, "layers": 3, "heads": 4},
}


# ---------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------
def resize_grey(images):
    """torchvision Resize(32, BICUBIC) + CenterCrop(32) on each PIL 'L' image -> uint8 [N,32,32]."""
    from PIL import Image
    tf = C.resize_crop(IMAGE_SIZE)
    out = np.empty((len(images), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(tf(Image.fromarray(img, mode="L")))
    return torch.from_numpy(out)


MEAN_T = torch.tensor(C.CLIP_MEAN).view(1, 3, 1, 1)
STD_T = torch.tensor(C.CLIP_STD).view(1, 3, 1, 1)


def to_pixels(grey_u8):
    """convert('RGB') + ToTensor + Normalize, same float ops as torchvision: [N,32,32] u8 -> [N,3,32,32]."""
    x = grey_u8.unsqueeze(1).expand(-1, 3, -1, -1).float().div(255)
    return (x - MEAN_T) / STD_T


def check_preprocessing(test_images):
    """Compare with the reference tensor for the first Fashion-MNIST test image, if present."""
    ref = os.path.join(REPO, "test", "fixtures", "preprocess", "fmnist0_gray28.png.32.f32")
    if not os.path.exists(ref):
        return
    want = torch.from_numpy(np.fromfile(ref, dtype="<f4").reshape(1, 3, 32, 32))
    got = to_pixels(resize_grey(test_images[:1]))
    diff = (want - got).abs().max().item()
    print(f"preprocessing vs reference {ref}: max abs diff {diff:.3g}")
    assert diff < 1e-6, "preprocessing does not match the reference"


# ---------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------
@torch.no_grad()
def class_text_embeddings(model, tok, templates, names=CLASS_NAMES):
    """Zero-shot classifier weights as in the CLIP paper: mean of normalised prompt embeddings."""
    rows = []
    for name in names:
        e = F.normalize(model.text(C.clip_tokenize(tok, [t.format(name) for t in templates])), dim=-1)
        rows.append(F.normalize(e.mean(0), dim=-1))
    return torch.stack(rows)


@torch.no_grad()
def image_embeddings(model, grey, bs=500):
    return torch.cat([F.normalize(model.visual(to_pixels(grey[i:i + bs])), dim=-1)
                      for i in range(0, len(grey), bs)])


def zero_shot_accuracy(img_emb, cls_emb, labels):
    return ((img_emb @ cls_emb.T).argmax(1) == labels).float().mean().item()


# ---------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------
def export_onnx(model, out_dir, tok, test_grey, check_file):
    import onnx
    onnx_dir = os.path.join(out_dir, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    text_path = os.path.join(onnx_dir, "text_model.onnx")
    vision_path = os.path.join(onnx_dir, "vision_model.onnx")
    model.eval()
    ids = C.clip_tokenize(tok, ["a photo of a dress.", "a photo of a ankle boot.", "bag"])
    pix = to_pixels(test_grey[:4])
    torch.onnx.export(model.text, (ids,), text_path, opset_version=17,
                      input_names=["input_ids"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size"}, "text_embeds": {0: "batch_size"}},
                      do_constant_folding=True)
    torch.onnx.export(model.visual, (pix,), vision_path, opset_version=17,
                      input_names=["pixel_values"], output_names=["image_embeds"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}},
                      do_constant_folding=True)
    for p in (text_path, vision_path):
        onnx.checker.check_model(onnx.load(p))
        print(f"exported {os.path.relpath(p, REPO)} ({os.path.getsize(p) / 1e6:.2f} MB)")
    if check_file:
        with torch.no_grad():
            t = model.text(ids)
            v = model.visual(pix)
        json.dump({"input_ids": ids.tolist(), "text_embeds": t.tolist(),
                   "pixel_values": pix.flatten().tolist(), "pixel_shape": list(pix.shape),
                   "image_embeds": v.tolist()}, open(check_file, "w"))
        print(f"wrote PyTorch reference outputs to {check_file}")


def write_configs(out_dir, model, args):
    cfg = MODEL_CFG
    clip_bench = {
        "image_size": IMAGE_SIZE,
        "context_length": CONTEXT_LENGTH,
        "embed_dim": cfg["embed_dim"],
        "logit_scale": round(model.logit_scale.exp().item(), 4),
        "token_embedding_dim": cfg["text"]["token_dim"],
        "trained_on": "Fashion-MNIST train (60,000 images)",
        "seed": args.seed,
        "epochs": args.epochs,
        "description": "clip-bench built-in mini CLIP: tiny ViT (32 px, patch 8) + causal text "
                       "transformer over the full CLIP BPE vocabulary, trained from scratch on "
                       "Fashion-MNIST with captions by scripts/train_mini.py. For smoke tests "
                       "and demos, not a general-purpose model.",
    }
    config = C.hf_clip_config(cfg["embed_dim"], IMAGE_SIZE, cfg["text"], cfg["vision"], clip_bench)
    C.write_model_configs(out_dir, config, IMAGE_SIZE)


README = """# mini — clip-bench's built-in CLIP model

A tiny CLIP model trained from scratch on Fashion-MNIST by
[`scripts/train_mini.py`](../../scripts/train_mini.py), exported to ONNX in the
Hugging Face / transformers.js layout. It exists so that clip-bench can be run, demonstrated
and tested offline; it is **not** a general-purpose image-text model (it has only ever seen
28x28 greyscale clothing pictures and ~{n_caps} distinct captions).

## Files

| file | what |
|---|---|
| `config.json` | `model_type: "clip"`, tower sizes, and a `clip_bench` block (`image_size` 32, learned `logit_scale`) |
| `preprocessor_config.json` | CLIPImageProcessor: shortest edge 32, bicubic, center crop 32, rescale 1/255, OpenAI CLIP mean/std |
| `onnx/text_model.onnx` | `input_ids` int64 [batch, 77] → `text_embeds` float32 [batch, {dim}] |
| `onnx/vision_model.onnx` | `pixel_values` float32 [batch, 3, 32, 32] → `image_embeds` float32 [batch, {dim}] |
| `bpe_simple_vocab_16e6.txt.gz` | OpenAI CLIP's BPE vocabulary (tokenise with OpenAI's algorithm: `[49406] + ids + [49407]`, right-padded with 0 to 77) |

Outputs are the projected, unnormalised embeddings (as OpenAI CLIP's `encode_text` /
`encode_image`); L2-normalise before taking cosine similarities. ONNX opset 17, dynamic
batch axis.

## Architecture

* Image tower: ViT on 32x32 RGB, 8x8 patches (16 tokens), width {vw}, {vl} pre-LN blocks,
  {vh} heads, MLP {vmlp}, GELU; mean over the tokens (no class token), `ln_post`, linear projection to {dim}.
* Text tower: causal pre-LN transformer, full CLIP vocabulary (49,408 tokens, context 77,
  SOT 49406, EOT 49407, pad 0), factorised token embedding (49408x{td} then {td}→{tw}),
  width {tw}, {tl} blocks, {th} heads; pooled at the EOT position (argmax of `input_ids`),
  `ln_final`, linear projection to {dim}.
* Learned temperature; final `logit_scale` = {scale}.
* Parameters: {n_params:,} ({n_vis:,} image, {n_txt:,} text).

## Training

* Data: Fashion-MNIST train split, 60,000 images, each preprocessed exactly as clip-bench
  does (torchvision `Resize(32, BICUBIC)`, `CenterCrop(32)`, RGB, `ToTensor`, CLIP
  `Normalize`), paired with a caption drawn at random from {n_tpl} templates ×
  class-name synonyms (e.g. "a black and white photo of the sweater.", "a picture of my handbag.").
* Loss: symmetric InfoNCE (CLIP's) with label-aware targets (same-class captions in a batch count as positives), batch {bs}, AdamW (lr {lr}, betas 0.9/0.98, weight decay
  0.05 on the 2-D weight matrices except embeddings), linear warm-up then cosine decay,
  {epochs} epoch(s), random horizontal flips, seed {seed}.
* Training took {train_min:.1f} minutes on {threads} CPU threads (PyTorch {torch_ver}){time_note}.

Reproduce (Debian 12 packages python3-torch, python3-torchvision, python3-onnx,
dataset-fashion-mnist):

```
/usr/bin/python3 scripts/train_mini.py --epochs {epochs} --seed {seed} --out models/mini
```

Results are deterministic for a given machine and thread count.

## Accuracy (measured in PyTorch by the training script, Fashion-MNIST test, 10,000 images)

| prompts | zero-shot top-1 |
|---|---|
| single prompt `a photo of a {{}}.` | {acc_single:.2%} |
| ensemble of CIFAR-10's 18 templates (paper prompts) | {acc_cifar:.2%} |
| ensemble of the {n_tpl} training templates | {acc_train:.2%} |

Class names: {names}. Chance is 10%.

## Licences

* Fashion-MNIST: MIT licence, © 2017 Zalando SE (https://github.com/zalandoresearch/fashion-mnist).
* `bpe_simple_vocab_16e6.txt.gz`: MIT licence, © 2021 OpenAI (https://github.com/openai/CLIP);
  see `LICENSE-openai-clip.txt`.
* The weights in `onnx/` were produced by clip-bench's own training script and are
  distributed under the project's MIT licence.
"""


# ---------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=float, default=1.0, help="passes over the 60k training images")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "mini"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default=C.DEFAULT_DATA,
                    help="Fashion-MNIST IDX folder (default: $CLIP_BENCH_FASHION_MNIST, else the bundled datasets/fashion-mnist)")
    ap.add_argument("--bpe", default=None,
                    help="BPE vocabulary (default: <out>/bpe_simple_vocab_16e6.txt.gz, else $CLIP_BENCH_BPE, "
                         "else the repository's models/mini copy)")
    ap.add_argument("--check-file", default=None,
                    help="also write a JSON with a few inputs and PyTorch outputs to compare with ONNX")
    ap.add_argument("--limit", type=int, default=0, help="debug: use only this many training images")
    args = ap.parse_args()

    t_start = time.time()
    C.seed_everything(args.seed, args.threads)

    bpe = args.bpe
    if bpe is None:
        bpe = os.path.join(args.out, "bpe_simple_vocab_16e6.txt.gz")
        if not os.path.exists(bpe):
            bpe = C.DEFAULT_BPE
    tok = C.SimpleTokenizer(bpe)

    # ---- data
    tr_x, tr_y = C.load_fashion_mnist(args.data, "train")
    te_x, te_y = C.load_fashion_mnist(args.data, "test")
    if args.limit:
        tr_x, tr_y = tr_x[:args.limit], tr_y[:args.limit]
    check_preprocessing(te_x)
    tr_g, te_g = resize_grey(tr_x), resize_grey(te_x)
    print(f"preprocessed {len(tr_g)} train + {len(te_g)} test images in {time.time() - t_start:.1f}s")

    # ---- captions: all (template, synonym) pairs per class, pre-tokenised
    captions, per_class = C.caption_table(SYNONYMS, TEMPLATES)
    n_caps = len(captions)
    cap_tok = C.clip_tokenize(tok, captions)
    cap_len = (cap_tok.argmax(1) + 1)                        # tokens up to and including EOT
    print(f"{n_caps} captions, longest {cap_len.max().item()} tokens")

    # ---- model / optimiser
    model = MiniCLIP(MODEL_CFG)
    n_vis = sum(p.numel() for p in model.visual.parameters())
    n_txt = sum(p.numel() for p in model.text.parameters())
    print(f"parameters: image {n_vis:,}, text {n_txt:,}")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() == 2 and "embedding" not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    bs = args.batch_size
    steps_per_epoch = len(tr_g) // bs
    total = max(1, int(round(args.epochs * steps_per_epoch)))
    lr_at = C.warmup_cosine(args.lr, total)

    # ---- training
    gen = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(tr_g), generator=gen)
    pos = 0
    model.train()
    t_train = time.time()
    for step in range(total):
        if pos + bs > len(order):
            order, pos = torch.randperm(len(tr_g), generator=gen), 0
        idx = order[pos:pos + bs]
        pos += bs
        y = tr_y[idx]
        # a random caption of each image's class
        caps = C.sample_captions(per_class, y, gen)
        ids = cap_tok[caps]
        ids = ids[:, :int(cap_len[caps].max())]             # drop all-pad tail: causal, so EOT output is unchanged
        grey = tr_g[idx]
        flip = torch.rand(bs, generator=gen) < 0.5           # horizontal flip augmentation
        grey = torch.where(flip.view(-1, 1, 1), grey.flip(-1), grey)

        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        img = F.normalize(model.visual(to_pixels(grey)), dim=-1)
        txt = F.normalize(model.text(ids), dim=-1)
        logits = model.logit_scale.exp() * img @ txt.T
        # label-aware targets: a caption of the image's class is a positive, not a false negative
        same = (y.view(-1, 1) == y.view(1, -1)).float()
        targets = same / same.sum(1, keepdim=True)
        loss = (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 20 == 0 or step == total - 1:
            el = time.time() - t_train
            print(f"step {step + 1}/{total} loss {loss.item():.4f} scale {model.logit_scale.exp().item():.1f} "
                  f"lr {lr_at(step):.2e} {el:.0f}s (eta {el / (step + 1) * (total - step - 1):.0f}s)", flush=True)
    train_s = time.time() - t_train
    print(f"training took {train_s / 60:.2f} min")

    # ---- evaluation (PyTorch)
    model.eval()
    img_emb = image_embeddings(model, te_g)
    acc_single = zero_shot_accuracy(img_emb, class_text_embeddings(model, tok, ["a photo of a {}."]), te_y)
    acc_cifar = zero_shot_accuracy(img_emb, class_text_embeddings(model, tok, CIFAR_TEMPLATES), te_y)
    acc_train = zero_shot_accuracy(img_emb, class_text_embeddings(model, tok, TEMPLATES), te_y)

    # ---- export
    os.makedirs(args.out, exist_ok=True)
    export_onnx(model, args.out, tok, te_g, args.check_file)
    write_configs(args.out, model, args)
    v, t = MODEL_CFG["vision"], MODEL_CFG["text"]
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(README.format(
            n_caps=n_caps, dim=MODEL_CFG["embed_dim"], vw=v["width"], vl=v["layers"], vh=v["heads"],
            vmlp=4 * v["width"], td=t["token_dim"], tw=t["width"], tl=t["layers"], th=t["heads"],
            scale=f"{model.logit_scale.exp().item():.2f}", n_params=n_vis + n_txt + 1, n_vis=n_vis,
            n_txt=n_txt, n_tpl=len(TEMPLATES), bs=bs, lr=args.lr, epochs=args.epochs, seed=args.seed,
            train_min=train_s / 60, threads=args.threads, time_note="", torch_ver=torch.__version__.split("+")[0],
            acc_single=acc_single, acc_cifar=acc_cifar, acc_train=acc_train,
            names=", ".join(f'"{n}"' for n in CLASS_NAMES)))

    print(f"zero-shot accuracy, ensemble of CIFAR-10's 18 templates: {acc_cifar:.4f}")
    print(f"zero-shot accuracy, ensemble of the {len(TEMPLATES)} training templates: {acc_train:.4f}")
    print(f"zero-shot accuracy on Fashion-MNIST test (single prompt 'a photo of a {{}}.'): {acc_single:.4f}")
    print(f"total time {(time.time() - t_start) / 60:.2f} min")


if __name__ == "__main__":
    sys.exit(main())
