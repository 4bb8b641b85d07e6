#!/usr/bin/python3
"""A ViT-B/32-architecture CLIP image tower with random weights, exported to ONNX for benchmarks.

    /usr/bin/python3 scripts/make_vitb32.py [--out .work/bench/vitb32] [--seed 0] [--opset 14]

Architecture (OpenAI CLIP VisionTransformer, ViT-B/32): 224 px input, 32 px patches (conv, no bias),
width 768, class token + learned positions, ln_pre, 12 pre-LN residual blocks (12 heads, MLP 3072 with
QuickGELU), ln_post on the class token, 768 -> 512 projection.  Random weights (deterministic per seed):
the numbers mean nothing, the cost per image is the real one (~4.4 GFLOPs).

Writes an image-only model directory that `clip-bench embed --model DIR` accepts:
  DIR/onnx/vision_model.onnx      pixel_values float32 [batch_size,3,224,224] -> image_embeds float32 [batch_size,512]
  DIR/preprocessor_config.json    CLIP 224: shortest_edge 224, center crop 224, bicubic, CLIP mean/std
  DIR/config.json
  DIR/vision_model.pt             the same weights as a PyTorch state_dict (for scripts/bench_embed_torch.py)
Skips the work when DIR already holds a model made with the same settings.
"""

import argparse
import json
import os

import torch
from torch import nn

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, width, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, mlp)
        self.gelu = QuickGELU()
        self.c_proj = nn.Linear(mlp, width)

    def attention(self, x):
        b, t, c = x.shape
        h = self.heads
        qkv = self.qkv(x).reshape(b, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax((q * (c // h) ** -0.5) @ k.transpose(-2, -1), dim=-1)
        return self.out_proj((att @ v).transpose(1, 2).reshape(b, t, c))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.c_proj(self.gelu(self.c_fc(self.ln_2(x))))


class VisionTower(nn.Module):
    def __init__(self, size=224, patch=32, width=768, layers=12, heads=12, mlp=3072, out_dim=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((size // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.Sequential(*[Block(width, heads, mlp) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, out_dim))

    def forward(self, pixel_values):
        x = self.conv1(pixel_values)  # [b, width, g, g]
        x = x.flatten(2).transpose(1, 2)  # [b, g*g, width]
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.blocks(self.ln_pre(x))
        return self.ln_post(x[:, 0, :]) @ self.proj


def build(seed=0):
    torch.manual_seed(seed)
    model = VisionTower()
    # LayerNorm/Linear defaults plus small random perturbations, so every weight is "random"
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'ln' in name:
                p.add_(0.02 * torch.randn_like(p))
    return model.eval()


def flops_per_image(size=224, patch=32, width=768, layers=12, mlp=3072, out_dim=512):
    """Multiply-adds x 2 of the matmuls (the rest is < 1%)."""
    t = (size // patch) ** 2 + 1
    patches = (size // patch) ** 2 * (3 * patch * patch) * width
    per_layer = t * width * 3 * width + 2 * t * t * width + t * width * width + 2 * t * width * mlp
    return 2 * (patches + layers * per_layer + width * out_dim)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='.work/bench/vitb32')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--opset', type=int, default=14)
    args = ap.parse_args()

    onnx_dir = os.path.join(args.out, 'onnx')
    onnx_file = os.path.join(onnx_dir, 'vision_model.onnx')
    config_file = os.path.join(args.out, 'config.json')
    config = {
        'model_type': 'clip_vision_model',
        'architecture': 'ViT-B/32 (random weights, scripts/make_vitb32.py)',
        'seed': args.seed,
        'opset': args.opset,
        'image_size': 224,
        'patch_size': 32,
        'hidden_size': 768,
        'num_hidden_layers': 12,
        'num_attention_heads': 12,
        'intermediate_size': 3072,
        'hidden_act': 'quick_gelu',
        'projection_dim': 512,
        'flops_per_image': flops_per_image(),
    }
    if os.path.exists(onnx_file) and os.path.exists(config_file) and os.path.exists(os.path.join(args.out, 'vision_model.pt')):
        with open(config_file) as f:
            if json.load(f) == config:
                print(f'{args.out}: up to date')
                return

    os.makedirs(onnx_dir, exist_ok=True)
    model = build(args.seed)
    torch.save(model.state_dict(), os.path.join(args.out, 'vision_model.pt'))
    dummy = torch.randn(2, 3, 224, 224)
    tmp = onnx_file + '.tmp'
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), tmp,
            input_names=['pixel_values'], output_names=['image_embeds'],
            dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}},
            opset_version=args.opset, do_constant_folding=True,
        )
    os.replace(tmp, onnx_file)
    pre = {
        'crop_size': {'height': 224, 'width': 224},
        'do_center_crop': True,
        'do_convert_rgb': True,
        'do_normalize': True,
        'do_rescale': True,
        'do_resize': True,
        'feature_extractor_type': 'CLIPFeatureExtractor',
        'image_processor_type': 'CLIPImageProcessor',
        'image_mean': CLIP_MEAN,
        'image_std': CLIP_STD,
        'resample': 3,
        'rescale_factor': 1 / 255,
        'size': {'shortest_edge': 224},
    }
    with open(os.path.join(args.out, 'preprocessor_config.json'), 'w') as f:
        json.dump(pre, f, indent=2)
    with open(config_file, 'w') as f:
        json.dump(config, f, indent=2)
    print(f'{args.out}: ViT-B/32 image tower, {flops_per_image() / 1e9:.2f} GFLOPs/image, {onnx_file}')


if __name__ == '__main__':
    main()
