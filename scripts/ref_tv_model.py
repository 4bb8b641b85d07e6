"""The `ref-tv` reference CLIP's PyTorch modules (torchvision VisionTransformer + torch.nn.TransformerEncoder), its
architecture and the text attention mask, shared by scripts/make_reference_model.py (which trains and exports it)
and scripts/reference_zeroshot.py (which rebuilds it from the exported ONNX weights and evaluates it).
torchvision and onnx are imported only inside the functions that need them.
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
import clip_common as C  # noqa: E402

VOCAB_SIZE = C.VOCAB_SIZE
CONTEXT_LENGTH = C.CONTEXT_LENGTH
IMAGE_SIZE = 32

CFG = {
    "embed_dim": 64,
    "vision": {"patch": 8, "width": 64, "layers": 3, "heads": 4, "mlp": 256},
    "text": {"token_dim": 16, "width": 64, "layers": 2, "heads": 4, "mlp": 256},
}


def attention_mask_for(ids):
    """1 for SOT..first EOT inclusive, 0 after (Hugging Face CLIPTokenizer padding='max_length')."""
    is_eot = (ids == C.EOT_ID).long()
    first_eot = is_eot.argmax(dim=1)
    pos = torch.arange(ids.shape[1]).unsqueeze(0)
    return (pos <= first_eot.unsqueeze(1)).long()


class VisionTower(nn.Module):
    def __init__(self, cfg=CFG):
        super().__init__()
        from torchvision.models import VisionTransformer
        v = cfg["vision"]
        self.vit = VisionTransformer(image_size=IMAGE_SIZE, patch_size=v["patch"], num_layers=v["layers"],
                                     num_heads=v["heads"], hidden_dim=v["width"], mlp_dim=v["mlp"],
                                     dropout=0.0, attention_dropout=0.0, num_classes=cfg["embed_dim"])
        # torchvision zero-initialises the classification head; as a CLIP projection it must not be 0
        nn.init.normal_(self.vit.heads.head.weight, std=v["width"] ** -0.5)
        nn.init.zeros_(self.vit.heads.head.bias)

    def forward(self, pixel_values):
        vit = self.vit
        x = vit._process_input(pixel_values)                       # [B, 16, W]
        cls = vit.class_token.expand(x.shape[0], -1, -1)
        x = vit.encoder(torch.cat([cls, x], dim=1))                 # + pos, blocks, ln
        return vit.heads(x[:, 0]), x


class TextTower(nn.Module):
    def __init__(self, cfg=CFG):
        super().__init__()
        t = cfg["text"]
        self.token_embedding = nn.Embedding(VOCAB_SIZE, t["token_dim"])
        nn.init.normal_(self.token_embedding.weight, std=0.1)
        self.token_up = nn.Linear(t["token_dim"], t["width"], bias=False)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT_LENGTH, t["width"]) * 0.01)
        layer = nn.TransformerEncoderLayer(t["width"], t["heads"], t["mlp"], dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, t["layers"], norm=nn.LayerNorm(t["width"]),
                                             enable_nested_tensor=False)
        self.proj = nn.Linear(t["width"], cfg["embed_dim"], bias=False)
        causal = torch.full((CONTEXT_LENGTH, CONTEXT_LENGTH), float("-inf")).triu(1)
        self.register_buffer("causal_mask", causal, persistent=False)

    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[1]
        x = self.token_up(self.token_embedding(input_ids)) + self.positional_embedding[:n]
        x = self.encoder(x, mask=self.causal_mask[:n, :n])
        eot = attention_mask.sum(dim=1) - 1                         # last attended position = EOT
        pooled = x.gather(1, eot.view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return self.proj(pooled), x


class RefCLIP(nn.Module):
    def __init__(self, cfg=CFG):
        super().__init__()
        self.visual = VisionTower(cfg)
        self.text = TextTower(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    # the interface reference_zeroshot.py uses (OpenAI's names)
    def encode_image(self, pixel_values):
        return self.visual(pixel_values)[0]

    def encode_text(self, input_ids, attention_mask):
        return self.text(input_ids, attention_mask)[0]


def load_from_onnx(model_dir):
    """Rebuild RefCLIP and load every parameter from the ONNX initializer of the same name."""
    import onnx
    from onnx import numpy_helper
    model = RefCLIP(CFG)
    towers = {"visual": "vision_model.onnx", "text": "text_model.onnx"}
    for attr, fname in towers.items():
        g = onnx.load(os.path.join(model_dir, "onnx", fname)).graph
        inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        module = getattr(model, attr)
        sd = module.state_dict()
        missing = [k for k in sd if k not in inits]
        if missing:
            raise RuntimeError(f"{fname}: no initializer for {missing}")
        module.load_state_dict({k: torch.from_numpy(inits[k].copy()) for k in sd})
    cfg_path = os.path.join(model_dir, "config.json")
    with open(cfg_path) as f:
        scale = json.load(f).get("clip_bench", {}).get("logit_scale")
    if scale:
        model.logit_scale.data.fill_(math.log(scale))
    return model.eval()
