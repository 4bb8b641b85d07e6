"""Code shared by clip-bench's Python scripts (train_mini.py, make_reference_model.py,
reference_zeroshot.py, make_test_models.py).

  * OpenAI CLIP's BPE tokenizer (clip/simple_tokenizer.py) and clip.tokenize-style rows;
  * the Hugging Face tokenizer.json / tokenizer_config.json built from the same BPE file;
  * the config.json / preprocessor_config.json of a CLIP model in the transformers.js layout;
  * Fashion-MNIST gzip IDX reading and OpenAI's CLIP image transform (clip/clip.py _transform);
  * the training scaffolding of train_mini.py / make_reference_model.py (seeding, captions, lr schedule).

torch, torchvision and PIL are imported only inside the functions that need them.
"""

import gzip
import html
import json
import math
import os
import random
import re
from functools import lru_cache

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
VOCAB_SIZE = 49408
CONTEXT_LENGTH = 77
SOT_ID, EOT_ID, PAD_ID = 49406, 49407, 0
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Defaults come from the environment, else from files the repository ships: OpenAI's BPE vocabulary (a byte copy
# travels with the built-in model) and the bundled Fashion-MNIST (Debian's dataset-fashion-mnist files).
DEFAULT_BPE = os.environ.get("CLIP_BENCH_BPE") or os.path.join(REPO, "models", "mini", "bpe_simple_vocab_16e6.txt.gz")
DEFAULT_DATA = os.environ.get("CLIP_BENCH_FASHION_MNIST") or os.path.join(REPO, "datasets", "fashion-mnist")


# ---------------------------------------------------------------------------------------------
# Tokenizer: OpenAI clip/simple_tokenizer.py with two substitutions:
#  * ftfy.fix_text is not applied (ftfy is not installed); it is the identity on plain ASCII.
#  * the `regex` pattern ...|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ is written for the stdlib `re`:
#    \p{L}+ -> [^\W\d_]+ , \p{N} -> \d , [^\s\p{L}\p{N}]+ -> (?:[^\s\w]|_)+ (identical on ASCII).
# ---------------------------------------------------------------------------------------------
@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return {(a, b) for a, b in zip(word[:-1], word[1:])}


def basic_clean(text):
    return html.unescape(html.unescape(text)).strip()   # ftfy.fix_text skipped, see above


def whitespace_clean(text):
    return re.sub(r"\s+", " ", text).strip()


def read_bpe_merges(bpe_path=DEFAULT_BPE):
    """The merges simple_tokenizer.py uses (lines 2..48895 of the file), as (a, b) tuples."""
    lines = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    return [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]


def clip_vocab(merges):
    """The 49408-entry vocabulary in id order, as simple_tokenizer.py builds it."""
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == VOCAB_SIZE and vocab[320] == "a</w>" and vocab[1929] == "dog</w>"
    return vocab


class SimpleTokenizer:
    PATTERN = re.compile(
        r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
        re.IGNORECASE)

    def __init__(self, bpe_path=DEFAULT_BPE):
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        merges = read_bpe_merges(bpe_path)
        vocab = clip_vocab(merges)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
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
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        """Text -> BPE ids, without SOT/EOT."""
        text = whitespace_clean(basic_clean(text)).lower()
        ids = []
        for token in self.PATTERN.findall(text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


def token_rows(id_lists, context_length=CONTEXT_LENGTH, truncate=False):
    """clip.tokenize rows from encoded texts: [SOT] + ids + [EOT], right-padded with 0 (int64 tensor)."""
    import torch
    rows = torch.zeros(len(id_lists), context_length, dtype=torch.long)
    for i, ids in enumerate(id_lists):
        seq = [SOT_ID] + list(ids) + [EOT_ID]
        if len(seq) > context_length:
            if not truncate:
                raise ValueError(f"row {i}: {len(seq)} tokens exceed the context length {context_length}")
            seq = seq[:context_length - 1] + [EOT_ID]
        rows[i, :len(seq)] = torch.tensor(seq)
    return rows


def clip_tokenize(tokenizer, texts, context_length=CONTEXT_LENGTH, truncate=False):
    """clip.tokenize(texts) with `tokenizer` (a SimpleTokenizer)."""
    if isinstance(texts, str):
        texts = [texts]
    return token_rows([tokenizer.encode(t) for t in texts], context_length, truncate)


# ---------------------------------------------------------------------------------------------
# Hugging Face files
# ---------------------------------------------------------------------------------------------
TOKENIZER_CONFIG = {
    "tokenizer_class": "CLIPTokenizer",
    "model_max_length": CONTEXT_LENGTH,
    "do_lower_case": True,
    "bos_token": "<|startoftext|>",
    "eos_token": "<|endoftext|>",
    "unk_token": "<|endoftext|>",
    "pad_token": "<|endoftext|>",
}


def hf_tokenizer_json(bpe_path=DEFAULT_BPE):
    """tokenizer.json (HF `tokenizers` format) as openai/clip-vit-base-patch32 ships it."""
    merges = read_bpe_merges(bpe_path)
    vocab = clip_vocab(merges)

    def special(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": True, "special": True}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(SOT_ID, "<|startoftext|>"), special(EOT_ID, "<|endoftext|>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|"
                                                   "[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
             "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", EOT_ID],
                           "cls": ["<|startoftext|>", SOT_ID], "trim_offsets": False,
                           "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>",
                  "continuing_subword_prefix": "", "end_of_word_suffix": "</w>", "fuse_unk": False,
                  "byte_fallback": False,
                  "vocab": {v: i for i, v in enumerate(vocab)},
                  "merges": [" ".join(m) for m in merges]},
    }


def write_json(path, obj, compact=False):
    """Compact (tokenizer.json) or indent-2 JSON with a final newline."""
    with open(path, "w", encoding="utf-8") as f:
        if compact:
            json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(obj, f, indent=2)
            f.write("\n")


def write_tokenizer_files(out_dir, tokenizer_json):
    """tokenizer.json (from hf_tokenizer_json) + tokenizer_config.json."""
    write_json(os.path.join(out_dir, "tokenizer.json"), tokenizer_json, compact=True)
    write_json(os.path.join(out_dir, "tokenizer_config.json"), TOKENIZER_CONFIG)


def hf_clip_config(embed_dim, image_size, text, vision, clip_bench, pad_token_id=PAD_ID,
                   logit_scale_init=math.log(1 / 0.07)):
    """config.json of a CLIPModel.  text: {width, layers, heads[, mlp]};
    vision: {patch, width, layers, heads[, mlp]}; mlp defaults to 4 * width."""
    return {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": embed_dim,
        "logit_scale_init_value": logit_scale_init,
        "text_config": {
            "model_type": "clip_text_model",
            "vocab_size": VOCAB_SIZE,
            "max_position_embeddings": CONTEXT_LENGTH,
            "hidden_size": text["width"],
            "intermediate_size": text.get("mlp", 4 * text["width"]),
            "num_hidden_layers": text["layers"],
            "num_attention_heads": text["heads"],
            "hidden_act": "gelu",
            "projection_dim": embed_dim,
            "bos_token_id": SOT_ID,
            "eos_token_id": EOT_ID,
            "pad_token_id": pad_token_id,
        },
        "vision_config": {
            "model_type": "clip_vision_model",
            "image_size": image_size,
            "patch_size": vision["patch"],
            "num_channels": 3,
            "hidden_size": vision["width"],
            "intermediate_size": vision.get("mlp", 4 * vision["width"]),
            "num_hidden_layers": vision["layers"],
            "num_attention_heads": vision["heads"],
            "hidden_act": "gelu",
            "projection_dim": embed_dim,
        },
        "clip_bench": clip_bench,
    }


def preprocessor_config(image_size):
    """preprocessor_config.json: CLIPImageProcessor (shortest edge, bicubic, center crop, CLIP mean/std)."""
    return {
        "image_processor_type": "CLIPImageProcessor",
        "feature_extractor_type": "CLIPFeatureExtractor",
        "do_resize": True,
        "size": {"shortest_edge": image_size},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": image_size, "width": image_size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(CLIP_MEAN),
        "image_std": list(CLIP_STD),
        "do_convert_rgb": True,
    }


def write_model_configs(out_dir, config, image_size):
    write_json(os.path.join(out_dir, "config.json"), config)
    write_json(os.path.join(out_dir, "preprocessor_config.json"), preprocessor_config(image_size))


# ---------------------------------------------------------------------------------------------
# Data and image preprocessing (OpenAI clip/clip.py _transform)
# ---------------------------------------------------------------------------------------------
def read_idx(path):
    """A gzip IDX file (MNIST format) -> numpy uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    assert data[0] == 0 and data[1] == 0 and data[2] == 0x08, f"{path}: not an unsigned-byte IDX file"
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_mnist(data_dir, split):
    """-> (uint8 images [N, 28, 28] numpy, int64 labels [N] torch tensor)."""
    import torch
    prefix = {"train": "train", "test": "t10k"}[split]
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, torch.from_numpy(y)


def _convert_image_to_rgb(image):
    return image.convert("RGB")


def resize_crop(n_px):
    """The geometric part of CLIP's transform: Resize(n_px, BICUBIC) + CenterCrop(n_px)."""
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Resize
    return Compose([Resize(n_px, interpolation=InterpolationMode.BICUBIC), CenterCrop(n_px)])


def clip_transform(n_px):
    """OpenAI clip/clip.py _transform(n_px) (a PIL image -> normalised float tensor [3, n_px, n_px])."""
    from torchvision.transforms import Compose, Normalize, ToTensor
    return Compose([resize_crop(n_px), _convert_image_to_rgb, ToTensor(), Normalize(CLIP_MEAN, CLIP_STD)])


def preprocess_images(images_u8, n_px):
    """uint8 greyscale [N, H, W] -> float32 [N, 3, n_px, n_px], one PIL 'L' image at a time."""
    import torch
    from PIL import Image
    tf = clip_transform(n_px)
    out = torch.empty(len(images_u8), 3, n_px, n_px, dtype=torch.float32)
    for i, img in enumerate(images_u8):
        out[i] = tf(Image.fromarray(img, mode="L"))
    return out


# ---------------------------------------------------------------------------------------------
# Training helpers (train_mini.py, make_reference_model.py)
# ---------------------------------------------------------------------------------------------
def seed_everything(seed, threads):
    """Seed python/numpy/torch, fix the thread count and turn on deterministic algorithms."""
    import torch
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def caption_table(synonyms, templates):
    """Every template x name of each class -> (captions, per_class), where per_class[c] is a
    LongTensor of the indices of class c's captions."""
    import torch
    captions, classes = [], []
    for c, names in enumerate(synonyms):
        for name in names:
            for t in templates:
                captions.append(t.format(name))
                classes.append(c)
    classes = torch.tensor(classes)
    return captions, [torch.nonzero(classes == c).flatten() for c in range(len(synonyms))]


def sample_captions(per_class, labels, gen):
    """The index of one random caption of each label's class (random numbers from `gen`)."""
    import torch
    pick = torch.randint(0, 1 << 30, (len(labels),), generator=gen)
    return torch.stack([per_class[c][p % len(per_class[c])] for c, p in zip(labels.tolist(), pick.tolist())])


def warmup_cosine(base_lr, total):
    """step -> learning rate: linear warm-up over min(50, total // 10) steps, then cosine decay to 0."""
    warmup = min(50, total // 10)

    def lr_at(step):
        if step < warmup:
            return base_lr * (step + 1) / warmup
        return 0.5 * base_lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
    return lr_at
