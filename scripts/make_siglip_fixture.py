#!/usr/bin/python3
"""Generate test/fixtures/models/tiny-siglip/: a tiny random-weight SigLIP-style model with a SentencePiece (Unigram)
tokenizer.json, and the token ids a reference tokenizer gives for hard texts.

    /usr/bin/python3 scripts/make_siglip_fixture.py

tokenizer.json has the structure of Hugging Face's SentencePiece conversions (SigLIP, T5): a normalizer
(collapse runs of spaces, lower-case), a Metaspace pre-tokenizer ("▁", prepended always), a Unigram model
([piece, log-probability] pairs, unk_id), a TemplateProcessing post-processor appending </s>, and added tokens
<pad> 0, </s> 1, <unk> 2; tokenizer_config.json names </s> as the pad token, as google/siglip-* do. Its
vocabulary is small and hand-made (whole words, subwords and single characters with distinct scores), not
SigLIP's 32,000 pieces. The Python tokenizer here (normalise, Metaspace, Viterbi over the pieces with the unknown
penalty and fused unknowns of `tokenizers`' Unigram, </s>, truncation keeping </s>, padding to 64 with the pad id,
as SiglipProcessor(padding="max_length", truncation=True) lays text out) is the reference the test compares
clip-bench's ids with: written from the tokenizers documentation, since neither `tokenizers` nor `sentencepiece`
can be installed on these machines.

The model: text tower over input_ids only (no attention mask), bidirectional attention, pooled at the LAST
position as SigLIP's text model is, so that padding to the fixed length changes the embedding; an image tower
as in make_test_models.py (16 px, CLIP-style shortest-edge resize and centre crop: clip-bench does not
reproduce SigLIP's squash resize). reference.json holds the texts, the reference ids and PyTorch's text
embeddings of those ids.
"""

import json
import math
import os
import shutil
import sys
import unicodedata

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_common as C  # noqa: E402
import make_test_models as T  # noqa: E402

OUT = os.path.join(C.REPO, "test", "fixtures", "models", "tiny-siglip")
CONTEXT = 64
SPECIAL = ["<pad>", "</s>", "<unk>"]
PAD_ID, EOS_ID, UNK_ID = 1, 1, 2      # SigLIP pads with </s>
WIDTH = 16
WORDS = ["a", "photo", "of", "the", "dog", "cat", "t-shirt", "top", "trouser", "pullover", "dress", "coat",
         "sandal", "shirt", "sneaker", "bag", "ankle", "boot", "black", "and", "white", "drawing", "itap",
         "very", "long", "caption", "café", "zürich", "東京"]
SUBWORDS = ["ph", "oto", "ers", "al", "er", "ing", "sh", "irt", "oo", "ee", "an", "ca"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,-/'!?") + ["é", "ü", "東", "京"]
HARD_TEXTS = [
    "a photo of a dog.",
    "  A   Photo OF the   T-Shirt  ",
    "Zürich café 東京 🐕 naïve",                        # é, ü composed; 🐕 and ï are unknown
    "itap of a " + "very " * 80 + "long caption.",     # longer than 64 tokens: truncated, </s> kept
    "ankle boot",
]


def build_vocab():
    """[piece, score] in id order: the specials, then words, subwords and characters (distinct scores, no ties)."""
    pieces = []
    for w in WORDS:
        pieces.append("▁" + w)
    for s in SUBWORDS:
        pieces.append(s)
        pieces.append("▁" + s)
    for c in CHARS:
        pieces.append(c)
    pieces.append("▁")
    seen, vocab = set(), [[s, 0.0] for s in SPECIAL]
    for k, p in enumerate(pieces):
        if p in seen:
            continue
        seen.add(p)
        # longer pieces are likelier (as in a trained model); k/1000 breaks every tie
        vocab.append([p, round(-12.0 + 1.5 * len(p) - k / 1000.0, 6)])
    return vocab


def tokenizer_json(vocab):
    def special(i, content):
        return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(i, s) for i, s in enumerate(SPECIAL)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [EOS_ID], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": UNK_ID, "vocab": vocab, "byte_fallback": False},
    }


# ---- the reference tokenizer -------------------------------------------------------------
def reference_ids(text, vocab):
    import re
    text = re.sub(" {2,}", " ", text).lower()
    score = {p: s for p, s in vocab[len(SPECIAL):]}
    ids = {p: i for i, (p, _) in enumerate(vocab)}
    unk_score = min(score.values()) - 10.0          # tokenizers' Unigram: K_UNK_PENALTY = 10
    out = []
    # Metaspace, prepend_scheme always, split: every space becomes ▁ and starts a new pre-token; ▁ is prepended
    # unless the text already starts with one
    meta = text.replace(" ", "▁")
    meta = meta if meta.startswith("▁") else "▁" + meta
    words = [w for w in re.split("(?=▁)", meta) if w]
    for w in words:
        n = len(w)
        best = [(-math.inf, None, None)] * (n + 1)   # (score, start, piece or None for unk)
        best[0] = (0.0, None, None)
        for i in range(n):
            if best[i][0] == -math.inf:
                continue
            single = False
            for j in range(i + 1, n + 1):
                p = w[i:j]
                if p in score:
                    single = single or j == i + 1
                    cand = best[i][0] + score[p]
                    if cand > best[j][0]:
                        best[j] = (cand, i, p)
            if not single:
                cand = best[i][0] + unk_score
                if cand > best[i + 1][0]:
                    best[i + 1] = (cand, i, None)
        seq, j = [], n
        while j > 0:
            _, i, p = best[j]
            seq.append(p)
            j = i
        seq.reverse()
        prev_unk = False
        for p in seq:
            if p is None:
                if not prev_unk:                       # fuse_unk
                    out.append(UNK_ID)
                prev_unk = True
            else:
                out.append(ids[p])
                prev_unk = False
    out = out[:CONTEXT - 1] + [EOS_ID]
    return out + [PAD_ID] * (CONTEXT - len(out))


class SiglipText(nn.Module):
    """input_ids [B, 64] -> text_embeds: bidirectional block, pooled at the last position, linear head."""

    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, WIDTH)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT, WIDTH) * 0.1)
        self.block = T.Block(WIDTH)
        self.ln_final = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, T.EMBED_DIM)

    def forward(self, input_ids):
        x = self.ln_final(self.block(self.token_embedding(input_ids) + self.positional_embedding))
        return self.head(x[:, -1])


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "onnx"))
    vocab = build_vocab()
    C.write_json(os.path.join(OUT, "tokenizer.json"), tokenizer_json(vocab), compact=True)
    C.write_json(os.path.join(OUT, "tokenizer_config.json"), {
        "tokenizer_class": "SiglipTokenizer", "model_max_length": CONTEXT, "do_lower_case": True,
        "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"})
    config = {
        "model_type": "siglip",
        "text_config": {"model_type": "siglip_text_model", "vocab_size": len(vocab), "max_position_embeddings": CONTEXT,
                        "hidden_size": WIDTH},
        "vision_config": {"model_type": "siglip_vision_model", "image_size": T.IMAGE_SIZE, "patch_size": T.PATCH,
                          "hidden_size": WIDTH},
        "clip_bench": {"context_length": CONTEXT, "description": "test fixture 'tiny-siglip': random weights, a "
                       "SentencePiece (Unigram) tokenizer.json; generated by scripts/make_siglip_fixture.py"},
    }
    C.write_json(os.path.join(OUT, "config.json"), config)
    C.write_json(os.path.join(OUT, "preprocessor_config.json"), C.preprocessor_config(T.IMAGE_SIZE))

    text, vis = SiglipText(len(vocab)), T.Vision(with_hidden=False)
    T.randomise(text)
    T.randomise(vis)
    ids = torch.tensor([reference_ids(t, vocab) for t in HARD_TEXTS])
    T.export(text, (ids,), os.path.join(OUT, "onnx", "text_model.onnx"), ["input_ids"], ["text_embeds"],
             {"input_ids": {0: "batch_size"}, "text_embeds": {0: "batch_size"}})
    T.export(vis, (T.golden_pixels(2),), os.path.join(OUT, "onnx", "vision_model.onnx"), ["pixel_values"],
             ["image_embeds"], {"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"}})
    with torch.no_grad():
        emb = text.eval()(ids)
    C.write_json(os.path.join(OUT, "reference.json"), {
        "_about": "scripts/make_siglip_fixture.py: reference token ids (normalise, Metaspace, Unigram Viterbi, </s>, "
                  "pad to 64 with </s>) of hard texts, and PyTorch's text embeddings of those ids",
        "texts": HARD_TEXTS, "input_ids": ids.tolist(), "text_embeds": emb.tolist()})
    for f in sorted(os.listdir(OUT)):
        print(f)


if __name__ == "__main__":
    main()
