#!/usr/bin/python3
"""Generate the decoding-parity fixtures: small images in every format and variety a Pillow user's dataset may
hold, and the tensors OpenAI clip.py's transform makes of them with Pillow 9.4 + torchvision 0.14.

    /usr/bin/python3 scripts/make_decode_fixtures.py [--out test/fixtures/decode]

Needs Debian 12's python3-pil (9.4), python3-torch, python3-torchvision, python3-numpy, and node with the
repository's sharp (only to borrow its Display P3 ICC profile). Deterministic: same bytes on every run.

Writes <out>/<image> (a few KB each), <out>/<image>.<n>.f32.gz (gzipped float32 [3, n, n]: exactly
`clip_transform(n)(Image.open(image))`, i.e. Resize(n, BICUBIC) in the image's own mode, CenterCrop(n),
convert("RGB"), ToTensor, Normalize) and <out>/manifest.json (per image: format, PIL mode, size, what it
exercises, the reference files; or the error clip.py's transform raises on it).
"""

import argparse
import gzip
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image, TiffImagePlugin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_common import clip_transform  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------------------------------------
# Image content: smooth gradients, discs and seeded noise, so that every codec has detail to get wrong.
# ------------------------------------------------------------------------------------------------
def content(w, h, seed, channels=3):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 6.3)
        v = 0.5 + 0.35 * np.sin(2 * np.pi * (fx * x / w + fy * y / h) + ph)
        for _ in range(3):  # discs with hard edges
            cx, cy, r, val = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, w / 3), rng.uniform(0, 1)
            v = np.where((x - cx) ** 2 + (y - cy) ** 2 < r * r, val, v)
        v = v + rng.normal(0, 0.04, size=v.shape)
        planes.append(v)
    a = np.stack(planes, axis=-1)
    return np.clip(np.round(a * 255), 0, 255).astype(np.uint8)


def alpha_plane(w, h, seed):
    """0 (fully transparent) on the left third, a ramp in the middle, 255 on the right, with a hole."""
    rng = np.random.default_rng(seed)
    x = np.arange(w, dtype=np.float64)[None, :].repeat(h, 0)
    a = np.clip((x - w / 3) / (w / 3), 0, 1) * 255
    cy, cx = rng.uniform(h / 4, 3 * h / 4), rng.uniform(2 * w / 3, w)
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < (h / 5) ** 2, 0, a)
    return np.round(a).astype(np.uint8)


def rgb(w, h, seed):
    return Image.fromarray(content(w, h, seed), "RGB")


def grey(w, h, seed):
    return Image.fromarray(content(w, h, seed, 1)[:, :, 0], "L")


def palette_image(w, h, seed, colours=16):
    """A mode P image with a random palette (not a grey ramp) and hard-edged regions."""
    rng = np.random.default_rng(seed)
    idx = (content(w, h, seed, 1)[:, :, 0].astype(np.int32) * colours // 256).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    pal = rng.integers(0, 256, size=(colours, 3), dtype=np.uint8)
    im.putpalette(pal.flatten().tolist())
    return im


# ------------------------------------------------------------------------------------------------
# A PNG writer for what Pillow cannot save: 16-bit RGB / LA / RGBA, 2- and 4-bit grey, Adam7 interlacing.
# ------------------------------------------------------------------------------------------------
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_rows(a, bit_depth):
    """a: [h, w, c] uint8/uint16 samples -> filtered (type 0) scanlines."""
    h, w, c = a.shape
    out = bytearray()
    for row in a:
        out.append(0)
        if bit_depth == 16:
            out += row.astype(">u2").tobytes()
        elif bit_depth == 8:
            out += row.astype(np.uint8).tobytes()
        else:  # 1, 2, 4 bits, one channel
            bits = np.unpackbits(row[:, 0].astype(np.uint8)[:, None], axis=1)[:, 8 - bit_depth:]
            out += np.packbits(bits.flatten()).tobytes()
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, a, colour_type, bit_depth, interlace=False, trns=None):
    a = a if a.ndim == 3 else a[:, :, None]
    h, w, _ = a.shape
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = a[y0::dy, x0::dx]
            if sub.size:
                raw += pack_rows(sub, bit_depth)
    else:
        raw = pack_rows(a, bit_depth)
    png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, int(interlace)))
    if trns is not None:
        png += png_chunk(b"tRNS", trns)
    png += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def content16(w, h, seed, channels):
    """16-bit samples over the whole 0..65535 range (most above 255, as real 16-bit images)."""
    a = content(w, h, seed, channels).astype(np.uint32)
    rng = np.random.default_rng(seed + 1)
    return (a * 257 + rng.integers(0, 257, size=a.shape)).clip(0, 65535).astype(np.uint16)


# ------------------------------------------------------------------------------------------------
# The cases
# ------------------------------------------------------------------------------------------------
def p3_icc():
    """sharp's Display P3 profile: an embedded profile that is not sRGB (PIL ignores it; so must clip-bench)."""
    js = ("require('sharp')({create:{width:1,height:1,channels:3,background:'#808080'}}).withIccProfile('p3')"
          ".png().toBuffer().then(b=>require('sharp')(b).metadata()).then(m=>process.stdout.write(m.icc))")
    return subprocess.run(["node", "-e", js], cwd=REPO, check=True, capture_output=True).stdout


def exif_orientation(value):
    ex = Image.Exif()
    ex[0x0112] = value
    return ex.tobytes()


def strip_jpeg_segment(jpg, marker):
    """The JPEG without its APPn segments of the given marker."""
    out, o = bytearray(jpg[:2]), 2
    while o < len(jpg):
        m, n = jpg[o + 1], struct.unpack(">H", jpg[o + 2:o + 4])[0]
        if m == 0xDA:
            out += jpg[o:]
            break
        if m != marker:
            out += jpg[o:o + 2 + n]
        o += 2 + n
    return bytes(out)


def ico_with_bmp(rgb_arr, mask):
    """An icon holding one 24-bit BMP image (bottom-up BGR rows) and its 1-bit AND mask (1 = transparent)."""
    h, w, _ = rgb_arr.shape
    xor = b"".join(rgb_arr[y, :, ::-1].tobytes() + b"\0" * ((-w * 3) % 4) for y in range(h - 1, -1, -1))
    rows = [np.packbits(mask[y].astype(np.uint8)).tobytes() for y in range(h - 1, -1, -1)]
    andmask = b"".join(r + b"\0" * ((-len(r)) % 4) for r in rows)
    dib = struct.pack("<IiiHHIIiiII", 40, w, 2 * h, 1, 24, 0, len(xor) + len(andmask), 0, 0, 0, 0) + xor + andmask
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", w, h, 0, 0, 1, 24, len(dib), 22) + dib


def bmp_v5_bgra(rgba):
    """A 32-bit BI_BITFIELDS BMP with a BITMAPV5HEADER and the usual BGRA masks, bottom-up (as GIMP writes it)."""
    h, w, _ = rgba.shape
    pixels = b"".join(rgba[y][:, [2, 1, 0, 3]].tobytes() for y in range(h - 1, -1, -1))
    v5 = struct.pack("<IiiHHIIiiII", 124, w, h, 1, 32, 3, len(pixels), 2835, 2835, 0, 0)
    v5 += struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000) + b"sRGB" + b"\0" * 36 + struct.pack("<IIIIIII", 0, 0, 0, 4, 0, 0, 0)
    assert len(v5) == 124
    return b"BM" + struct.pack("<IHHI", 14 + 124 + len(pixels), 0, 0, 14 + 124) + v5 + pixels


def make_cases(out):
    """Write the images; return [(file, what it exercises, reference sizes)]."""
    cases = []

    def add(name, what, sizes=(32,)):
        cases.append((name, what, sizes))
        return os.path.join(out, name)

    W, H = 64, 48
    # JPEG: every chroma subsampling, progressive, grey, CMYK, EXIF orientation, ICC, restart markers
    for sub, label in ((0, "444"), (1, "422"), (2, "420")):
        rgb(W, H, 1).save(add(f"jpeg_{label}.jpg", f"baseline JPEG, 4:{label[1]}:{label[2]} chroma subsampling"), quality=90, subsampling=sub)
    rgb(W, H, 2).save(add("jpeg_420_progressive.jpg", "progressive JPEG, 4:2:0"), quality=85, subsampling=2, progressive=True)
    rgb(W, H, 2).save(add("jpeg_444_progressive.jpg", "progressive JPEG, 4:4:4"), quality=85, subsampling=0, progressive=True)
    rgb(45, 61, 3).save(add("jpeg_420_odd_45x61.jpg", "4:2:0 with odd width and height (edge upsampling), portrait"), quality=80, subsampling=2)
    grey(W, H, 4).save(add("jpeg_grey.jpg", "greyscale JPEG (PIL mode L)"), quality=90)
    cmyk = content(W, H, 5, 4)
    cmyk[:, :, 3] = (cmyk[:, :, 3].astype(np.int32) // 2).astype(np.uint8)  # some black, not all
    Image.fromarray(cmyk, "CMYK").save(add("jpeg_cmyk_adobe.jpg", "CMYK JPEG with an Adobe marker (inverted samples), PIL's CMYK->RGB"), quality=90)
    buf = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(buf, "JPEG", quality=90)
    with open(add("jpeg_cmyk_no_adobe.jpg", "CMYK JPEG without an Adobe marker (PIL inverts it all the same)"), "wb") as f:
        f.write(strip_jpeg_segment(buf.getvalue(), 0xEE))
    rgb(W, H, 6).save(add("jpeg_exif_orientation6.jpg", "EXIF orientation 6 (PIL does not rotate)"), quality=90, exif=exif_orientation(6))
    rgb(W, H, 7).save(add("jpeg_icc_p3.jpg", "embedded Display P3 ICC profile (PIL ignores it)"), quality=90, icc_profile=p3_icc())
    # one larger JPEG, also referenced at 224 px
    rgb(320, 240, 8).save(add("jpeg_420_320x240.jpg", "4:2:0 photo-sized JPEG, downscaled to 224 and 32", (32, 224)), quality=75, subsampling=2)

    # PNG: every colour type and bit depth, tRNS, interlacing
    grey(W, H, 10).save(add("png_l.png", "8-bit grey PNG (L)"))
    la = np.dstack([content(W, H, 11, 1)[:, :, 0], alpha_plane(W, H, 11)])
    Image.fromarray(la, "LA").save(add("png_la.png", "grey + alpha PNG (LA): premultiplied resize"))
    Image.fromarray(content(W, H, 12, 1)[:, :, 0] > 127).save(add("png_1bit.png", "1-bit PNG (PIL mode 1: NEAREST resize)"))
    write_png(add("png_l_4bit.png", "4-bit grey PNG (scaled to 8 bits)"), content(W, H, 13, 1) >> 4, 0, 4)
    write_png(add("png_l_2bit.png", "2-bit grey PNG"), content(W, H, 14, 1) >> 6, 0, 2)
    palette_image(W, H, 15).save(add("png_p.png", "palette PNG (PIL mode P: NEAREST resize)"))
    palette_image(W, H, 15, 4).save(add("png_p_2bit.png", "2-bit palette PNG"), bits=2)
    p = palette_image(W, H, 16)
    p.save(add("png_p_trns.png", "palette PNG with per-entry alpha (tRNS): palette colours kept"), transparency=bytes([0, 128] + [255] * 14))
    rgb(W, H, 17).save(add("png_rgb_trns.png", "RGB PNG with a transparent colour (tRNS): ignored by convert('RGB')"), transparency=tuple(int(v) for v in content(W, H, 17)[0, 0]))
    g = grey(W, H, 18)
    g.save(add("png_l_trns.png", "grey PNG with a transparent grey level (tRNS)"), transparency=int(np.asarray(g)[0, 0]))
    rgba = np.dstack([content(W, H, 19), alpha_plane(W, H, 19)])
    Image.fromarray(rgba, "RGBA").save(add("png_rgba.png", "RGBA PNG: premultiplied resize"))
    write_png(add("png_rgb16.png", "16-bit RGB PNG (PIL keeps the high byte)"), content16(W, H, 20, 3), 2, 16)
    rgba16 = np.dstack([content16(W, H, 21, 3), alpha_plane(W, H, 21).astype(np.uint16) * 257])
    write_png(add("png_rgba16.png", "16-bit RGBA PNG"), rgba16, 6, 16)
    la16 = np.dstack([content16(W, H, 22, 1), alpha_plane(W, H, 22).astype(np.uint16) * 257])
    write_png(add("png_la16.png", "16-bit grey + alpha PNG"), la16, 4, 16)
    write_png(add("png_i16.png", "16-bit grey PNG (PIL mode I: double-precision resize, clipped to 255)", (32, 224)), content16(W, H, 23, 1), 0, 16)
    i16 = content16(W, H, 28, 1)
    write_png(add("png_i16_trns.png", "16-bit grey PNG with a transparent level (tRNS)"), i16, 0, 16, trns=struct.pack(">H", int(i16[0, 0, 0])))
    rgb16 = content16(W, H, 29, 3)
    write_png(add("png_rgb16_trns.png", "16-bit RGB PNG with a transparent colour (tRNS)"), rgb16, 2, 16, trns=struct.pack(">HHH", *(int(v) for v in rgb16[0, 0])))
    low16 = (content(W, H, 24, 1).astype(np.uint16) + 100)  # values 100..355 straddle the clip at 255
    write_png(add("png_i16_low.png", "16-bit grey PNG with values around 255 (the clip shows)"), low16, 0, 16)
    write_png(add("png_rgb_interlaced.png", "Adam7-interlaced RGB PNG"), content(W, H, 25), 2, 8, interlace=True)
    write_png(add("png_la_interlaced.png", "Adam7-interlaced grey + alpha PNG"), np.dstack([content(W, H, 26, 1)[:, :, 0], alpha_plane(W, H, 26)]), 4, 8, interlace=True)
    grey(20, 14, 27).save(add("png_l_upscale_20x14.png", "small grey PNG, upscaled"))

    # WebP
    rgb(W, H, 30).save(add("webp_lossy.webp", "lossy WebP"), quality=80)
    rgb(W, H, 31).save(add("webp_lossless.webp", "lossless WebP"), lossless=True)
    Image.fromarray(np.dstack([content(W, H, 32), alpha_plane(W, H, 32)]), "RGBA").save(add("webp_lossless_alpha.webp", "lossless WebP with alpha"), lossless=True)
    Image.fromarray(np.dstack([content(W, H, 33), alpha_plane(W, H, 33)]), "RGBA").save(add("webp_lossy_alpha.webp", "lossy WebP with alpha"), quality=80)

    # GIF
    palette_image(W, H, 40).save(add("gif_p.gif", "GIF (PIL mode P)"))
    palette_image(W, H, 41).save(add("gif_transparent.gif", "GIF with a transparent palette index (palette colour kept)"), transparency=3)
    grey(W, H, 42).save(add("gif_grey.gif", "GIF saved from a grey image (grey palette)"))
    for name, trns, what in (("gif_partial_frame.gif", None, "GIF whose first frame covers part of the screen (rest: index 0)"),
                             ("gif_partial_frame_transparent.gif", 5, "partial first frame with a transparent index (rest: that index)")):
        buf = io.BytesIO()
        palette_image(40, 30, 43).save(buf, "GIF", **({} if trns is None else {"transparency": trns}))
        g = bytearray(buf.getvalue())
        g[6:10] = struct.pack("<HH", 52, 38)  # logical screen larger than the frame at (0, 0)
        with open(add(name, what), "wb") as f:
            f.write(bytes(g))

    # TIFF
    rgb(W, H, 50).save(add("tiff_rgb.tif", "uncompressed RGB TIFF"))
    rgb(W, H, 51).save(add("tiff_rgb_lzw.tif", "LZW RGB TIFF"), compression="tiff_lzw")
    grey(W, H, 52).save(add("tiff_l_deflate.tif", "deflate grey TIFF"), compression="tiff_adobe_deflate")
    Image.fromarray(np.dstack([content(W, H, 53), alpha_plane(W, H, 53)]), "RGBA").save(add("tiff_rgba.tif", "RGBA TIFF (unassociated alpha)"))
    Image.fromarray(content(W, H, 54, 4), "CMYK").save(add("tiff_cmyk.tif", "CMYK TIFF"))
    palette_image(W, H, 55).save(add("tiff_p.tif", "palette TIFF"))
    rgb(W, H, 56).save(add("tiff_rgb_jpeg.tif", "JPEG-compressed RGB TIFF"), compression="jpeg", quality=90)
    Image.fromarray(content16(W, H, 57, 1), "I;16").save(add("tiff_i16.tif", "16-bit grey TIFF (PIL mode I;16: clip.py's Resize raises)"))

    # BMP
    rgb(W, H, 60).save(add("bmp_rgb24.bmp", "24-bit BMP"))
    rgb(45, 61, 61).save(add("bmp_rgb24_45x61.bmp", "24-bit BMP with row padding"))
    palette_image(W, H, 62).save(add("bmp_p8.bmp", "8-bit palette BMP (PIL mode P)"))
    grey(W, H, 63).save(add("bmp_l8.bmp", "8-bit BMP with a grey palette (PIL mode L)"))
    Image.fromarray(content(W, H, 64, 1)[:, :, 0] > 127).save(add("bmp_1bit.bmp", "1-bit BMP (PIL mode 1)"))
    Image.fromarray(np.dstack([content(W, H, 65), alpha_plane(W, H, 65)]), "RGBA").save(add("bmp_rgba32.bmp", "32-bit BMP"))
    with open(add("bmp_v5_bgra32.bmp", "32-bit BMP with a V5 header and BGRA bit fields (PIL mode RGBA)"), "wb") as f:
        f.write(bmp_v5_bgra(np.dstack([content(W, H, 66), alpha_plane(W, H, 66)])))

    # PPM / PGM / PBM
    rgb(W, H, 70).save(add("ppm_rgb.ppm", "binary PPM (P6)"))
    grey(W, H, 71).save(add("pgm_l.pgm", "binary PGM (P5)"))
    with open(add("pgm_16bit.pgm", "16-bit PGM (maxval 65535)"), "wb") as f:  # Pillow 9.4 cannot write it
        f.write(b"P5\n%d %d\n65535\n" % (W, H) + content16(W, H, 72, 1).astype(">u2").tobytes())
    Image.fromarray(content(W, H, 73, 1)[:, :, 0] > 127).save(add("pbm_1bit.pbm", "binary PBM (P4)"))

    # ICO, TGA
    with open(add("ico_bmp24.ico", "ICO with a 24-bit BMP image and an AND mask (RGBA, mask as alpha)"), "wb") as f:
        f.write(ico_with_bmp(content(32, 32, 86), content(32, 32, 87, 1)[:, :, 0] > 160))
    rgb(W, H, 80).convert("RGBA").save(add("ico_rgba.ico", "ICO (PNG inside, largest size opened)"), sizes=[(16, 16), (W, H)])
    rgb(W, H, 81).save(add("tga_rgb.tga", "uncompressed 24-bit TGA"))
    rgb(W, H, 82).save(add("tga_rgb_rle.tga", "RLE 24-bit TGA"), compression="tga_rle")
    Image.fromarray(np.dstack([content(W, H, 83), alpha_plane(W, H, 83)]), "RGBA").save(add("tga_rgba.tga", "32-bit TGA with alpha"))
    grey(W, H, 84).save(add("tga_l.tga", "8-bit grey TGA"))
    palette_image(W, H, 85).save(add("tga_p.tga", "colour-mapped TGA"))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "test/fixtures/decode"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cases = make_cases(args.out)
    manifest = {
        "generator": "scripts/make_decode_fixtures.py",
        "pillow": Image.__version__,
        "transform": "clip.py _transform(n): Resize(n, BICUBIC), CenterCrop(n), convert('RGB'), ToTensor, Normalize(CLIP mean/std)",
        "cases": [],
    }
    for name, what, sizes in cases:
        path = os.path.join(args.out, name)
        with Image.open(path) as im:
            entry = {"image": name, "format": im.format, "mode": im.mode, "size": list(im.size), "what": what,
                     "bytes": os.path.getsize(path), "refs": []}
            for n in sizes:
                try:
                    t = clip_transform(n)(im).numpy().astype("<f4")
                except Exception as e:  # noqa: BLE001 - record what clip.py's transform says
                    entry["error"] = f"{type(e).__name__}: {e}"
                    break
                ref = f"{name}.{n}.f32.gz"
                with open(os.path.join(args.out, ref), "wb") as f:
                    # mtime 0: the same bytes on every run
                    f.write(gzip.compress(t.tobytes(), compresslevel=9, mtime=0))
                entry["refs"].append({"n": n, "file": ref})
        manifest["cases"].append(entry)
        print(f"{name:32s} {entry['format']:5s} {entry['mode']:5s} {entry['bytes']:6d} B  {entry.get('error', '')}")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
