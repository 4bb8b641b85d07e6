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
  * text: a re-implementation of OpenAI's clip/simple_tokenizer.py + clip.tokenize (below);
    the attention mask is 1 for SOT..EOT and 0 for padding, as Hugging Face's CLIPTokenizer gives it;
  * model: the PyTorch `ref-tv` modules (scripts/make_reference_model.py), with the weights read back
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
import gzip
import hashlib
import html
import json
import os
import re
import sys
import time
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(REPO, "scripts")

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGE_SIZE = 32
CONTEXT_LENGTH = 77
SOT_ID, EOT_ID = 49406, 49407
DEFAULT_BPE = "/work/shared/reference/bpe_simple_vocab_16e6.txt.gz"
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
DEFAULT_MODEL_DIR = os.path.join(REPO, "test", "fixtures", "models", "ref-tv")
DEFAULT_OUT_DIR = os.path.join(REPO, "test", "fixtures", "reference")
SINGLE_TEMPLATE = "a photo of a {}."
MODES = ("contextless", "single", "ensemble")


# ---------------------------------------------------------------------------------------------
# Tokenizer: OpenAI clip/simple_tokenizer.py, line by line, with two documented substitutions:
#  * ftfy.fix_text is not applied (ftfy is not installed); it is the identity on the plain-ASCII
#    prompts used here.
#  * the `regex` pattern  <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
#    is written for the stdlib `re`: \p{L}+ -> [^\W\d_]+ (word chars minus digits and '_'),
#    \p{N} -> \d, [^\s\p{L}\p{N}]+ -> (?:[^\s\w]|_)+ .  Identical on ASCII text.
# ---------------------------------------------------------------------------------------------
@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text):
    # text = ftfy.fix_text(text)   -- see above
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r"\s+", " ", text)
    text = text.strip()
    return text


def read_bpe_merges(bpe_path=DEFAULT_BPE):
    """The merges simple_tokenizer.py uses: lines 2..48895 of the file, as (a, b) tuples."""
    merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merges = merges[1:49152 - 256 - 2 + 1]
    return [tuple(merge.split()) for merge in merges]


def clip_vocab(merges):
    """The 49408-entry vocabulary in id order, as simple_tokenizer.py builds it."""
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for merge in merges:
        vocab.append("".join(merge))
    vocab.extend(["<|startoftext|>", "<|endoftext|>"])
    return vocab


class SimpleTokenizer(object):
    def __init__(self, bpe_path=DEFAULT_BPE):
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        merges = read_bpe_merges(bpe_path)
        vocab = clip_vocab(merges)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
            re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)

        if not pairs:
            return token + "</w>"

        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break

                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            new_word = tuple(new_word)
            word = new_word
            if len(word) == 1:
                break
            else:
                pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(" "))
        return bpe_tokens


def clip_tokenize(tokenizer, texts, context_length=CONTEXT_LENGTH, truncate=False):
    """clip.tokenize: rows [SOT] + ids + [EOT], zero-padded to context_length (int64)."""
    if isinstance(texts, str):
        texts = [texts]
    sot_token = tokenizer.encoder["<|startoftext|>"]
    eot_token = tokenizer.encoder["<|endoftext|>"]
    all_tokens = [[sot_token] + tokenizer.encode(text) + [eot_token] for text in texts]
    result = torch.zeros(len(all_tokens), context_length, dtype=torch.long)
    for i, tokens in enumerate(all_tokens):
        if len(tokens) > context_length:
            if truncate:
                tokens = tokens[:context_length]
                tokens[-1] = eot_token
            else:
                raise RuntimeError(f"Input {texts[i]} is too long for context length {context_length}")
        result[i, :len(tokens)] = torch.tensor(tokens)
    return result


def attention_mask_for(ids):
    """1 for SOT..first EOT inclusive, 0 after (Hugging Face CLIPTokenizer padding='max_length')."""
    is_eot = (ids == EOT_ID).long()
    first_eot = is_eot.argmax(dim=1)
    pos = torch.arange(ids.shape[1]).unsqueeze(0)
    return (pos <= first_eot.unsqueeze(1)).long()


# ---------------------------------------------------------------------------------------------
# Data + preprocessing (OpenAI clip/clip.py _transform)
# ---------------------------------------------------------------------------------------------
def read_idx(path):
    """A gzip IDX file (MNIST format) -> numpy uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    assert data[0] == 0 and data[1] == 0 and data[2] == 0x08, f"{path}: not an unsigned-byte IDX file"
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _convert_image_to_rgb(image):
    return image.convert("RGB")


def clip_transform(n_px=IMAGE_SIZE):
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor
    return Compose([
        Resize(n_px, interpolation=InterpolationMode.BICUBIC),
        CenterCrop(n_px),
        _convert_image_to_rgb,
        ToTensor(),
        Normalize(CLIP_MEAN, CLIP_STD),
    ])


def preprocess_images(images_u8, n_px=IMAGE_SIZE):
    """uint8 [N, 28, 28] -> float32 [N, 3, n_px, n_px], one PIL 'L' image at a time."""
    from PIL import Image
    tf = clip_transform(n_px)
    out = torch.empty(len(images_u8), 3, n_px, n_px, dtype=torch.float32)
    for i, img in enumerate(images_u8):
        out[i] = tf(Image.fromarray(img, mode="L"))
    return out


def load_fashion_mnist(data_dir, split):
    prefix = {"train": "train", "test": "t10k"}[split]
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, torch.from_numpy(y)


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
        texts = clip_tokenize(tokenizer, texts)  # tokenize
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


def run_reference(model, out_dir=DEFAULT_OUT_DIR, data_dir=DEFAULT_DATA, bpe_path=DEFAULT_BPE,
                  command=None, model_name="ref-tv", extra=None):
    """Evaluate `model` (an object with encode_text(ids, mask) / encode_image(pixels)) and write the fixture."""
    t0 = time.time()
    tokenizer = SimpleTokenizer(bpe_path)
    classnames = fashion_mnist_classnames()
    templates = templates_for_modes()
    x, y = load_fashion_mnist(data_dir, "test")
    pixels = preprocess_images(x)
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
def load_model_from_onnx(model_dir):
    """Rebuild the PyTorch ref-tv modules and load their weights from the ONNX initializers."""
    sys.path.insert(0, SCRIPTS)
    import make_reference_model as M
    return M.load_from_onnx(model_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=DEFAULT_MODEL_DIR)
    ap.add_argument("--out-dir", default=DEFAULT_OUT_DIR)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--bpe", default=DEFAULT_BPE)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model_from_onnx(args.model_dir)
    extra = None
    old = os.path.join(args.out_dir, "zeroshot_ref-tv.json")
    if os.path.exists(old):  # keep the training facts that make_reference_model.py recorded
        with open(old) as f:
            prev = json.load(f)
        extra = {k: prev[k] for k in ("model_info",) if k in prev}
    run_reference(model, args.out_dir, args.data, args.bpe, extra=extra)


if __name__ == "__main__":
    main()
