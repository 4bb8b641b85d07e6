#!/usr/bin/python3
"""Build, train and export `ref-tv`, an independent small CLIP used to check clip-bench against a
reference Python pipeline, then compute that reference (scripts/reference_zeroshot.py).

Regenerate test/fixtures/models/ref-tv/ and test/fixtures/reference/ (Debian 12: python3-torch 1.13,
python3-torchvision 0.14, python3-onnx, dataset-fashion-mnist; 250 steps took about 11 minutes on 2
heavily shared CPU cores, roughly half that on idle ones):

    /usr/bin/python3 scripts/make_reference_model.py --steps 250 --batch-size 128 --lr 1.5e-3 --seed 0

Training is deterministic for a given machine and thread count (--threads, default 2); another
BLAS or thread count may change the last bits of the weights and therefore the fixture, which is
why the reference is recomputed from the exported weights rather than assumed.

Re-run only the reference evaluation of the committed model (weights read from the ONNX files):

    /usr/bin/python3 scripts/reference_zeroshot.py

Why a second model: clip-bench's built-in `mini` (scripts/train_mini.py) is a hand-written ViT and
text transformer, pooled at argmax(input_ids), exported with a single `input_ids` input.  `ref-tv`
shares none of that:
  * image tower: torchvision.models.VisionTransformer (image 32, patch 8, hidden 64, 3 layers,
    4 heads, MLP 256; class token, torchvision's encoder incl. its final LayerNorm); its `heads`
    Linear(64 -> 64) is the projection.  Outputs image_embeds [B, 64] and last_hidden_state [B, 17, 64].
  * text tower: torch.nn.TransformerEncoder (pre-LN `norm_first=True`, batch_first, GELU, 2 layers,
    width 64, 4 heads, MLP 256, final LayerNorm) under a causal mask, over the full CLIP vocabulary
    (49408 x 16 token embedding, then a 16 -> 64 linear map, + learned positions), pooled at
    position attention_mask.sum(1) - 1 (the EOT token), Linear(64 -> 64) projection.  The ONNX
    graph takes input_ids AND attention_mask (int64 [B, 77]); a runtime that fed no or a wrong mask
    would pool the wrong position.  Outputs text_embeds [B, 64] and last_hidden_state [B, 77, 64].
  * Outputs are unnormalised (like OpenAI's encode_image / encode_text).
  * ONNX opset 17, dynamic batch axis, exported without constant folding so that every initializer
    keeps its PyTorch parameter name: reference_zeroshot.py rebuilds these modules (ref_tv_model.py) from
    the ONNX files' weights (load_from_onnx) and so needs nothing outside the repo.

Training: Fashion-MNIST train (60,000 images), preprocessed once exactly as CLIP does at 32 px
(PIL 'L' -> Resize(32, BICUBIC) -> CenterCrop(32) -> RGB -> ToTensor -> Normalize(CLIP mean/std)),
random horizontal flips; each image paired with a caption drawn at random from TEMPLATES x the
class's names (datasets/fashion-mnist.json names + a few synonyms).  Loss: CLIP's symmetric
cross-entropy over the batch similarity matrix (learned temperature), with the targets spread
uniformly over the same-class pairs of the batch (a label-aware InfoNCE; with 10 classes plain
InfoNCE would treat ~10% of each row as false negatives).  AdamW, warm-up + cosine, seeded;
torch.use_deterministic_algorithms(True), 2 threads.
"""

import argparse
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_common as C  # noqa: E402
import reference_zeroshot as R  # noqa: E402
from ref_tv_model import CFG, CONTEXT_LENGTH, IMAGE_SIZE, REPO, RefCLIP, attention_mask_for, load_from_onnx  # noqa: E402

OPSET = 17


# Caption names per label (the evaluation names of datasets/fashion-mnist.json come first).
SYNONYMS = [
    ["t-shirt", "tee", "top", "T-shirt/top"],
    ["pair of trousers", "trousers", "pants", "jeans"],
    ["pullover", "sweater", "jumper"],
    ["dress", "gown"],
    ["coat", "jacket"],
    ["sandal", "sandals"],
    ["shirt", "blouse"],
    ["sneaker", "trainer", "running shoe"],
    ["bag", "handbag", "purse"],
    ["ankle boot", "boot", "boots"],
]
TEMPLATES = [
    "{}",
    "a photo of a {}.",
    "a photo of the {}.",
    "a black and white photo of a {}.",
    "a low resolution photo of the {}.",
    "a blurry photo of a {}.",
    "a close-up photo of the {}.",
    "a good photo of a {}.",
    "a drawing of the {}.",
    "a picture of my {}.",
    "itap of a {}.",
    "a rendering of the {}.",
]


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------
def export_onnx(model, out_dir, tok, pixels):
    import onnx
    onnx_dir = os.path.join(out_dir, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    model.eval()
    ids = C.clip_tokenize(tok, ["a photo of a dress.", "bag", "a black and white photo of the ankle boot."])
    mask = attention_mask_for(ids)
    text_path = os.path.join(onnx_dir, "text_model.onnx")
    vision_path = os.path.join(onnx_dir, "vision_model.onnx")
    # grad mode on + parameters requiring grad: keeps nn.MultiheadAttention / TransformerEncoderLayer
    # off their fused inference fast paths, which the ONNX exporter cannot export
    torch.onnx.export(model.text, (ids, mask), text_path, opset_version=OPSET,
                      input_names=["input_ids", "attention_mask"],
                      output_names=["text_embeds", "last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch_size"}, "attention_mask": {0: "batch_size"},
                                    "text_embeds": {0: "batch_size"}, "last_hidden_state": {0: "batch_size"}},
                      do_constant_folding=False)
    torch.onnx.export(model.visual, (pixels[:4],), vision_path, opset_version=OPSET,
                      input_names=["pixel_values"], output_names=["image_embeds", "last_hidden_state"],
                      dynamic_axes={"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"},
                                    "last_hidden_state": {0: "batch_size"}},
                      do_constant_folding=False)
    for p in (text_path, vision_path):
        onnx.checker.check_model(onnx.load(p))
        print(f"exported {os.path.relpath(p, REPO)} ({os.path.getsize(p) / 1e6:.2f} MB)")
    # the reference reloads the weights from these files: check that round trip is exact
    re_model = load_from_onnx(out_dir)
    with torch.no_grad():
        for name in ("visual", "text"):
            a = getattr(model, name).state_dict()
            b = getattr(re_model, name).state_dict()
            assert all(torch.equal(a[k], b[k]) for k in a), f"{name}: ONNX weights differ from PyTorch"
    print("ONNX initializers == PyTorch parameters (bit-exact)")


def write_configs(out_dir, model, info):
    t, d = CFG["text"], CFG["embed_dim"]
    clip_bench = {
        "image_size": IMAGE_SIZE,
        "context_length": CONTEXT_LENGTH,
        "embed_dim": d,
        "logit_scale": round(model.logit_scale.exp().item(), 4),
        "token_embedding_dim": t["token_dim"],
        "text_inputs": ["input_ids", "attention_mask"],
        "text_pooling": "position attention_mask.sum(1) - 1 (EOT)",
        "description": "test fixture 'ref-tv': independent reference CLIP (torchvision VisionTransformer + "
                       "torch.nn.TransformerEncoder text tower with attention_mask pooling) trained on "
                       "Fashion-MNIST by scripts/make_reference_model.py; its PyTorch zero-shot result is "
                       "test/fixtures/reference/zeroshot_ref-tv.json",
        **info,
    }
    config = C.hf_clip_config(d, IMAGE_SIZE, t, CFG["vision"], clip_bench)
    C.write_model_configs(out_dir, config, IMAGE_SIZE)


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=250, help="training steps (batch --batch-size)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=R.DEFAULT_MODEL_DIR)
    ap.add_argument("--ref-out", default=R.DEFAULT_OUT_DIR)
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--bpe", default=C.DEFAULT_BPE)
    ap.add_argument("--limit", type=int, default=0, help="debug: use only this many training images")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference evaluation")
    args = ap.parse_args()

    t_start = time.time()
    C.seed_everything(args.seed, args.threads)
    tok = C.SimpleTokenizer(args.bpe)

    # ---- data, preprocessed once with CLIP's transform
    tr_x, tr_y = C.load_fashion_mnist(args.data, "train")
    if args.limit:
        tr_x, tr_y = tr_x[:args.limit], tr_y[:args.limit]
    pixels = C.preprocess_images(tr_x, IMAGE_SIZE)
    print(f"preprocessed {len(pixels)} training images in {time.time() - t_start:.0f}s", flush=True)

    # ---- captions
    caps, per_class = C.caption_table(SYNONYMS, TEMPLATES)
    cap_ids = C.clip_tokenize(tok, caps)
    cap_mask = attention_mask_for(cap_ids)
    cap_len = cap_mask.sum(1)
    print(f"{len(caps)} captions ({len(TEMPLATES)} templates), longest {cap_len.max().item()} tokens")

    # ---- model / optimiser
    model = RefCLIP(CFG)
    n_vis = sum(p.numel() for p in model.visual.parameters())
    n_txt = sum(p.numel() for p in model.text.parameters())
    print(f"parameters: image {n_vis:,}, text {n_txt:,}")
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 and "embedding" not in name and "class_token" not in name
         else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    total, bs = args.steps, args.batch_size
    lr_at = C.warmup_cosine(args.lr, total)

    gen = torch.Generator().manual_seed(args.seed)
    order, pos = torch.randperm(len(pixels), generator=gen), 0
    model.train()
    t_train = time.time()
    for step in range(total):
        if pos + bs > len(order):
            order, pos = torch.randperm(len(pixels), generator=gen), 0
        idx = order[pos:pos + bs]
        pos += bs
        y = tr_y[idx]
        ci = C.sample_captions(per_class, y, gen)
        n = int(cap_len[ci].max())
        ids, mask = cap_ids[ci, :n], cap_mask[ci, :n]        # causal: dropping the pad tail changes nothing
        img = pixels[idx]
        flip = torch.rand(bs, generator=gen) < 0.5
        img = torch.where(flip.view(-1, 1, 1, 1), img.flip(-1), img)

        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ie = F.normalize(model.visual(img)[0], dim=-1)
        te = F.normalize(model.text(ids, mask)[0], dim=-1)
        logits = model.logit_scale.exp() * ie @ te.T
        same = (y.view(-1, 1) == y.view(1, -1)).float()
        target = same / same.sum(1, keepdim=True)
        loss = (torch.sum(-target * F.log_softmax(logits, 1), 1).mean() +
                torch.sum(-target * F.log_softmax(logits.T, 1), 1).mean()) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if step % 25 == 0 or step == total - 1:
            el = time.time() - t_train
            print(f"step {step + 1}/{total} loss {loss.item():.4f} scale {model.logit_scale.exp().item():.1f} "
                  f"{el:.0f}s (eta {el / (step + 1) * (total - step - 1):.0f}s)", flush=True)
    train_s = time.time() - t_train
    print(f"training took {train_s / 60:.2f} min")
    model.eval()

    # ---- export
    os.makedirs(args.out, exist_ok=True)
    info = {"trained_on": "Fashion-MNIST train (60,000 images)" if not args.limit else f"{args.limit} images",
            "steps": total, "batch_size": bs, "lr": args.lr, "seed": args.seed, "threads": args.threads,
            "train_minutes": round(train_s / 60, 2), "caption_templates": TEMPLATES, "caption_names": SYNONYMS}
    write_configs(args.out, model, info)
    C.write_tokenizer_files(args.out, C.hf_tokenizer_json(args.bpe))
    export_onnx(model, args.out, tok, pixels)
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(args.out) for f in fs)
    print(f"{os.path.relpath(args.out, REPO)}: {size / 1e6:.2f} MB")

    if not args.no_reference:
        cmd = "/usr/bin/python3 scripts/make_reference_model.py" + "".join(
            f" {a}" for a in sys.argv[1:])
        model_info = {"architecture": CFG, "params_image": n_vis, "params_text": n_txt, **info,
                      "command": cmd}
        # the reference uses the weights exactly as the ONNX files store them
        R.run_reference(load_from_onnx(args.out), args.ref_out, args.data, args.bpe,
                        extra={"model_info": model_info})
    print(f"total {(time.time() - t_start) / 60:.1f} min")


if __name__ == "__main__":
    main()
