#!/usr/bin/python3
"""The PyTorch peer of scripts/bench_embed.mjs: the same ViT-B/32 image tower (same weights, from
scripts/make_vitb32.py's vision_model.pt) embedding an image folder on CPU, with OpenAI CLIP's torchvision
preprocessing (PIL open, Resize(224, BICUBIC), CenterCrop(224), convert RGB, ToTensor, Normalize) and a DataLoader.

    /usr/bin/python3 scripts/bench_embed_torch.py --root IMAGES/test --model-dir .work/bench/vitb32 \
        [--batch-size 32] [--threads 2] [--workers 1] [--compare embeddings.npy] [--raw N]

Thread budget: the model runs with torch.set_num_threads(--threads) (= clip-bench's intra-op threads);
DataLoader workers (PyTorch sets each to 1 thread) decode and preprocess in parallel, as clip-bench's
decode/preprocess competes with its inference threads.  Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

t_start = time.perf_counter()
import numpy as np
import torch
from torchvision import datasets, transforms
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_vitb32 import CLIP_MEAN, CLIP_STD, VisionTower  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--root', required=True)
    ap.add_argument('--model-dir', required=True)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--compare', help='clip-bench embeddings.npy of the same folder: report the max abs difference')
    ap.add_argument('--raw', type=int, default=0, metavar='N',
                    help='instead: the model alone on N pre-made random tensors (no data loading), images/s')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    model = VisionTower()
    model.load_state_dict(torch.load(os.path.join(args.model_dir, 'vision_model.pt')))
    model.eval()
    if args.raw:
        g = torch.Generator().manual_seed(7)
        x = torch.rand(args.batch_size, 3, 224, 224, generator=g) * 4 - 2
        batches = max(2, -(-args.raw // args.batch_size))
        with torch.inference_mode():
            model(x[:4])  # warm-up
            t0 = time.perf_counter()
            for _ in range(batches):
                model(x)
            secs = time.perf_counter() - t0
        print(json.dumps({'images': batches * args.batch_size, 'secs': secs, 'ips': batches * args.batch_size / secs,
                          'threads': torch.get_num_threads()}))
        return
    tf = transforms.Compose([
        transforms.Resize(224, interpolation=InterpolationMode.BICUBIC),
        transforms.CenterCrop(224),
        lambda im: im.convert('RGB'),
        transforms.ToTensor(),
        transforms.Normalize(CLIP_MEAN, CLIP_STD),
    ])
    ds = datasets.ImageFolder(args.root, transform=tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=False, num_workers=args.workers,
                                         persistent_workers=False, prefetch_factor=4 if args.workers > 0 else 2)
    out = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for x, _ in loader:
            out.append(model(x))
    secs = time.perf_counter() - t0
    emb = torch.cat(out).numpy()
    res = {'images': len(ds), 'secs': secs, 'ips': len(ds) / secs, 'wallIps': len(ds) / (time.perf_counter() - t_start),
           'threads': torch.get_num_threads(), 'workers': args.workers}
    if args.compare:
        ref = np.load(args.compare)
        res['maxAbsDiff'] = float(np.abs(ref - emb).max()) if ref.shape == emb.shape else None
    print(json.dumps(res))


if __name__ == '__main__':
    main()
