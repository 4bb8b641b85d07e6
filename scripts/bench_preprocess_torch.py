#!/usr/bin/python3
"""The Pillow + torchvision peer of scripts/bench_preprocess.mjs, on the same JPEG folder.

    taskset -c 0 /usr/bin/python3 scripts/bench_preprocess_torch.py stages DIR [--warmup 5]
        decode (Image.open + load) and OpenAI CLIP's transform (Resize(224, BICUBIC), CenterCrop, convert RGB,
        ToTensor, Normalize) timed directly, one image after another; per image wall and CPU ms (means)
    taskset -c 0-3 /usr/bin/python3 scripts/bench_preprocess_torch.py pipeline DIR --workers 4 [--batch-size 32]
        the same through torchvision's ImageFolder and a DataLoader with that many workers, feeding a model whose
        inference is negligible (the mean of each image): images/s

Prints one JSON line. torch uses 1 intra-op thread (the workers are the parallelism).
"""
import argparse
import glob
import json
import os
import sys
import time

import torch
from PIL import Image
from torchvision import datasets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_common import clip_transform  # noqa: E402


def stages(args):
    files = sorted(glob.glob(os.path.join(args.dir, '**', '*.jpg'), recursive=True))
    if len(files) <= args.warmup:
        raise SystemExit(f'{args.dir}: need more than {args.warmup} JPEGs')
    tf = clip_transform(args.size)
    t = dict(decodeWall=0.0, decodeCpu=0.0, preWall=0.0, preCpu=0.0)
    for i, f in enumerate(files):
        w0, c0 = time.perf_counter(), time.process_time()
        im = Image.open(f)
        im.load()
        w1, c1 = time.perf_counter(), time.process_time()
        tf(im)
        w2, c2 = time.perf_counter(), time.process_time()
        if i < args.warmup:
            continue
        t['decodeWall'] += w1 - w0
        t['decodeCpu'] += c1 - c0
        t['preWall'] += w2 - w1
        t['preCpu'] += c2 - c1
    n = len(files) - args.warmup
    ms = lambda v: round(v * 1000 / n, 3)  # noqa: E731
    return dict(images=n, decodeMs=ms(t['decodeWall']), decodeCpuMs=ms(t['decodeCpu']),
                preprocessMs=ms(t['preWall']), preprocessCpuMs=ms(t['preCpu']),
                totalMs=ms(t['decodeWall'] + t['preWall']), totalCpuMs=ms(t['decodeCpu'] + t['preCpu']))


def pipeline(args):
    ds = datasets.ImageFolder(os.path.join(args.dir, 'test'), transform=clip_transform(args.size))
    loader = torch.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=False, num_workers=args.workers,
                                         prefetch_factor=4 if args.workers > 0 else 2)
    t0 = time.perf_counter()
    n = 0
    with torch.inference_mode():
        for x, _ in loader:
            x.mean(dim=(2, 3))
            n += x.shape[0]
    secs = time.perf_counter() - t0
    return dict(images=n, secs=secs, ips=n / secs, workers=args.workers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['stages', 'pipeline'])
    ap.add_argument('dir')
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--workers', type=int, default=0)
    ap.add_argument('--batch-size', type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(json.dumps(stages(args) if args.what == 'stages' else pipeline(args)))


if __name__ == '__main__':
    main()
