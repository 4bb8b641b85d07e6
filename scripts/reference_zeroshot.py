#!/usr/bin/python3
"""Reference zero-shot pipeline (PyTorch), independent of clip-bench's TypeScript code.

Computes the zero-shot top-1 of the `ref-tv` test model (built by
scripts/make_reference_model.py) on Fashion-MNIST test exactly as OpenAI's CLIP code and its
ImageNet zero-shot notebook do it, and writes test/fixtures/reference/zeroshot_ref-tv.json, which
clip-bench's own result (onnxruntime + its TS preprocessing and tokenizer) must match.

Pipeline:
  * images: Fashion-MNIST t10k gzip IDX -> PIL 'L' image -> torchvision Resize(32, BICUBIC) ->
    CenterCrop(32) -> convert('RGB') -> ToTensor -> Normalize(CLIP mean, std)
    (OpenAI clip/clip.py `_transform(32)`);
  * text: a re-implementation of OpenAI's clip/simple_tokenizer.py + clip.tokenize (clip_common.py);
    the attention mask is 1 for SOT..EOT and 0 for padding, as Hugging Face's CLIPTokenizer gives it;
  * model: the PyTorch `ref-tv` modules (scripts/ref_tv_model.py), with the weights read back
    from the committed ONNX files' initializers (or handed over in memory right after training);
  * classifier: per class, the prompt embeddings are L2-normalised, averaged, re-normalised;
    image embeddings L2-normalised; logits = 100 * img @ W; top-1 and mean per-class recall in percent.
  * prompt modes: contextless "{}", single "a photo of a {}.", ensemble = ImageNet's 80 templates
    (datasets/prompts.json "imagenet".templates); class names from datasets/fashion-mnist.json "classes".

Regenerate the fixture from the committed model alone (about 1 minute on 2 CPU cores):

    /usr/bin/python3 scripts/reference_zeroshot.py

(scripts/make_reference_model.py calls the same code at the end of training, with the in-memory model.)

Requires torch + torchvision + numpy + PIL + onnx (Debian 12: python3-torch, python3-torchvision,
python3-onnx); no onnxruntime.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "scripts")
sys.path.insert(0, SCRIPTS)
import clip_common as C  # noqa: E402
from ref_tv_model import IMAGE_SIZE, attention_mask_for, load_from_onnx  # noqa: E402

DEFAULT_MODEL_DIR = os.path.join(REPO, "test", "fixtures", "models", "ref-tv")
DEFAULT_OUT_DIR = os.path.join(REPO, "test", "fixtures", "reference")
SINGLE_TEMPLATE = "a photo of a {}."
MODES = ("contextless", "single", "ensemble")


# ---------------------------------------------------------------------------------------------
# Tokenizer, IDX reading and CLIP's image transform: clip_common.py
# ---------------------------------------------------------------------------------------------
def fashion_mnist_classnames():
    with open(os.path.join(REPO, "datasets", "fashion-mnist.json")) as f:
        return json.load(f)["classes"]


def imagenet_templates():
    with open(os.path.join(REPO, "datasets", "prompts.json")) as f:
        return json.load(f)["imagenet"]["templates"]


# ---------------------------------------------------------------------------------------------
# Zero-shot evaluation (OpenAI notebooks/Prompt_Engineering_for_ImageNet.ipynb)
# ---------------------------------------------------------------------------------------------
@torch.no_grad()
def zeroshot_classifier(model, tokenizer, classnames, templates):
    zeroshot_weights = []
    for classname in classnames:
        texts = [template.format(classname) for template in templates]  # format with class
        texts = C.clip_tokenize(tokenizer, texts)  # tokenize
        class_embeddings = model.encode_text(texts, attention_mask_for(texts))  # embed with text encoder
        class_embeddings /= class_embeddings.norm(dim=-1, keepdim=True)
        class_embedding = class_embeddings.mean(dim=0)
        class_embedding /= class_embedding.norm()
        zeroshot_weights.append(class_embedding)
    zeroshot_weights = torch.stack(zeroshot_weights, dim=1)
    return zeroshot_weights


@torch.no_grad()
def image_features(model, pixels, batch_size=500):
    feats = []
    for i in range(0, len(pixels), batch_size):
        f = model.encode_image(pixels[i:i + batch_size])
        f /= f.norm(dim=-1, keepdim=True)
        feats.append(f)
    return torch.cat(feats)


def evaluate(model, tokenizer, pixels, labels, classnames, templates_by_mode):
    """-> {mode: {"top1", "mean_per_class", "predictions"}} (accuracies in percent)."""
    model.eval()
    feats = image_features(model, pixels)
    out = {}
    for mode, templates in templates_by_mode.items():
        W = zeroshot_classifier(model, tokenizer, classnames, templates)
        logits = 100. * feats @ W
        pred = logits.topk(1, 1, True, True)[1].squeeze(1)
        correct = (pred == labels)
        top1 = correct.float().mean().item() * 100
        per_class = [correct[labels == c].float().mean().item() for c in range(len(classnames))]
        out[mode] = {"top1": top1, "mean_per_class": float(np.mean(per_class)) * 100,
                     "predictions": pred.to(torch.uint8).numpy()}
    return out


def templates_for_modes():
    return {"contextless": ["{}"], "single": [SINGLE_TEMPLATE], "ensemble": imagenet_templates()}


def run_reference(model, out_dir=DEFAULT_OUT_DIR, data_dir=C.DEFAULT_DATA, bpe_path=C.DEFAULT_BPE,
                  command=None, model_name="ref-tv", extra=None):
    """Evaluate `model` (an object with encode_text(ids, mask) / encode_image(pixels)) and write the fixture."""
    t0 = time.time()
    tokenizer = C.SimpleTokenizer(bpe_path)
    classnames = fashion_mnist_classnames()
    templates = templates_for_modes()
    x, y = C.load_fashion_mnist(data_dir, "test")
    pixels = C.preprocess_images(x, IMAGE_SIZE)
    res = evaluate(model, tokenizer, pixels, y, classnames, templates)

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "classnames.txt"), "w") as f:
        f.write("".join(c + "\n" for c in classnames))
    with open(os.path.join(out_dir, "templates80.json"), "w") as f:
        json.dump(templates["ensemble"], f, indent=2)
        f.write("\n")
    import torchvision
    fixture = {
        "model": model_name,
        "dataset": "fashion-mnist",
        "split": "test",
        "n_images": int(len(y)),
        "classnames": classnames,
        "templates_contextless": templates["contextless"],
        "templates_single": templates["single"],
        "templates_ensemble": templates["ensemble"],
        "top1": {m: round(res[m]["top1"], 4) for m in MODES},
        "mean_per_class": {m: round(res[m]["mean_per_class"], 4) for m in MODES},
        "predictions_sha256": {m: hashlib.sha256(res[m]["predictions"].tobytes()).hexdigest() for m in MODES},
        "predictions": {m: "".join(str(int(p)) for p in res[m]["predictions"]) for m in MODES},
        "pipeline": "PIL 'L' -> torchvision Resize(32, BICUBIC), CenterCrop(32), convert('RGB'), ToTensor, "
                    "Normalize(CLIP mean/std); OpenAI simple_tokenizer (re-implemented, no ftfy) + clip.tokenize, "
                    "attention_mask 1 for SOT..EOT; PyTorch model; OpenAI ImageNet-notebook zero-shot "
                    "(per-prompt L2 norm, class mean, re-norm; logits = 100 * img @ W); top-1 in percent",
        "predictions_format": "one digit (predicted label) per test image, in file order; "
                              "predictions_sha256 is over the same labels as uint8 bytes",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "torch_threads": torch.get_num_threads(),
        "command": command or "/usr/bin/python3 scripts/reference_zeroshot.py",
    }
    if extra:
        fixture.update(extra)
    path = os.path.join(out_dir, f"zeroshot_{model_name}.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"reference zero-shot ({time.time() - t0:.0f}s): " +
          ", ".join(f"{m} {fixture['top1'][m]:.2f}%" for m in MODES))
    print(f"wrote {os.path.relpath(path, REPO)}")
    return fixture


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=DEFAULT_MODEL_DIR)
    ap.add_argument("--out-dir", default=DEFAULT_OUT_DIR)
    ap.add_argument("--data", default=C.DEFAULT_DATA)
    ap.add_argument("--bpe", default=C.DEFAULT_BPE)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_from_onnx(args.model_dir)
    extra = None
    old = os.path.join(args.out_dir, "zeroshot_ref-tv.json")
    if os.path.exists(old):  # keep the training facts that make_reference_model.py recorded
        with open(old) as f:
            prev = json.load(f)
        extra = {k: prev[k] for k in ("model_info",) if k in prev}
    run_reference(model, args.out_dir, args.data, args.bpe, extra=extra)


if __name__ == "__main__":
    main()
