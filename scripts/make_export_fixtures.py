#!/usr/bin/python3
"""Generate the fixtures of test/model/export.test.ts from the repository's own PyTorch reference CLIP (ref-tv):

    /usr/bin/python3 scripts/make_export_fixtures.py

  test/fixtures/models/ref-tv-export/     scripts/export_model.py --clip-bench-ref test/fixtures/models/ref-tv:
                                          towers with image_embeds + pooler_output, configs, tokenizer, and
                                          export_check.json (sample inputs, PyTorch outputs, largest differences)
  test/fixtures/models/ref-tv-combined/   the same PyTorch model in optimum's combined layout: one model.onnx with
                                          inputs input_ids, pixel_values, attention_mask and outputs
                                          logits_per_image, logits_per_text, text_embeds, image_embeds (the last
                                          two L2-normalised, as transformers' CLIPModel.forward returns them)

Needs Debian's python3-torch 1.13, torchvision and python3-onnx; node for the self-check (scripts/onnx_run.mjs).
"""

import os
import shutil
import subprocess
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_model as E  # noqa: E402

REPO = E.REPO
MODELS = os.path.join(REPO, "test", "fixtures", "models")
REF = os.path.join(MODELS, "ref-tv")


class Combined(nn.Module):
    """optimum's CLIP export signature (transformers CLIPModel.forward): both towers in one graph."""

    def __init__(self, src):
        super().__init__()
        self.image, self.text, self.scale = src.image, src.text, src.logit_scale

    def forward(self, input_ids, pixel_values, attention_mask):
        img = self.image(pixel_values)[0]
        txt = self.text(input_ids, attention_mask)[0]
        img = img / img.norm(p=2, dim=-1, keepdim=True)
        txt = txt / txt.norm(p=2, dim=-1, keepdim=True)
        logits_per_text = self.scale * txt @ img.t()
        return logits_per_text.t(), logits_per_text, txt, img


def main():
    torch.set_num_threads(1)
    out = os.path.join(MODELS, "ref-tv-export")
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(HERE, "export_model.py"), "--clip-bench-ref", REF, "--out", out],
                   check=True)

    comb = os.path.join(MODELS, "ref-tv-combined")
    shutil.rmtree(comb, ignore_errors=True)
    os.makedirs(comb)
    src = E.from_clip_bench_ref(REF)
    pixels = src.pixels(E.sample_images())
    ids, mask = src.tokenize(E.SAMPLE_TEXTS)
    torch.onnx.export(Combined(src).eval(), (ids, pixels, mask), os.path.join(comb, "model.onnx"),
                      opset_version=E.OPSET, input_names=["input_ids", "pixel_values", "attention_mask"],
                      output_names=["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
                      dynamic_axes={"input_ids": {0: "text_batch_size"}, "attention_mask": {0: "text_batch_size"},
                                    "pixel_values": {0: "image_batch_size"},
                                    "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
                                    "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
                                    "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}})
    for f in ("config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(out, f), os.path.join(comb, f))
    for root, _, files in os.walk(MODELS):
        if root.startswith((out, comb)):
            for f in sorted(files):
                p = os.path.join(root, f)
                print(f"{os.path.relpath(p, REPO):60s} {os.path.getsize(p):>10,d}")


if __name__ == "__main__":
    main()
