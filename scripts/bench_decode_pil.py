#!/usr/bin/python3
"""The Pillow side of scripts/bench_decode.mjs: JPEG decoding with Pillow (libjpeg-turbo, default settings).

    /usr/bin/python3 scripts/bench_decode_pil.py --make DIR --n N [--size 500 375]  # N photo-like JPEGs (q90, 4:2:0)
    /usr/bin/python3 scripts/bench_decode_pil.py --dir DIR --rounds R # decode them R times; print JSON

The JSON has, per round, the milliseconds per image of Image.open + load() on the file's bytes (already in memory,
as the Node side has them), and per image the sha256 of the RGB pixels, so that the Node side can check it decodes
the same pixels.
"""

import argparse
import hashlib
import io
import json
import os
import time

import numpy as np
from PIL import Image


def make(out, n, w, h):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(12345)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    for i in range(n):
        c = rng.uniform(0, 255, 3)
        g = rng.uniform(-0.4, 0.4, (2, 3))
        img = c + g[0] * x[..., None] + g[1] * y[..., None]
        for _ in range(6):  # soft blobs
            cx, cy, r, col = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.06, 0.3) * w, rng.uniform(0, 255, 3)
            k = np.clip(1 - ((x - cx) ** 2 + (y - cy) ** 2) / r ** 2, 0, 1)[..., None]
            img = img * (1 - k) + col * k
        f = rng.uniform(0.02, 0.12)
        img += (20 * np.sin(x * f) * np.cos(y * f * 1.3))[..., None] + rng.normal(0, 7, img.shape)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(os.path.join(out, f"img{i:04d}.jpg"), quality=90)


def bench(d, rounds):
    files = sorted(f for f in os.listdir(d) if f.endswith(".jpg"))
    blobs = [open(os.path.join(d, f), "rb").read() for f in files]
    ms = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for b in blobs:
            im = Image.open(io.BytesIO(b))
            im.load()
        ms.append((time.perf_counter() - t0) * 1000 / len(blobs))
    sha = {f: hashlib.sha256(Image.open(io.BytesIO(b)).convert("RGB").tobytes()).hexdigest() for f, b in zip(files, blobs)}
    print(json.dumps({"ms_per_image": ms, "sha256": sha}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--size", type=int, nargs=2, default=(500, 375))
    ap.add_argument("--dir")
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    if a.make:
        make(a.make, a.n, *a.size)
    if a.dir:
        bench(a.dir, a.rounds)


if __name__ == "__main__":
    main()
