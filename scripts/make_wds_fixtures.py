#!/usr/bin/env python3
"""Small WebDataset packages in CLIP_benchmark's layout, written the way its packages are: Python's tarfile in its
default PAX format (a fractional mtime gives every member an `x` header), samples `s%07d` numbered across shards,
members in sorted extension order. The committed copies under test/fixtures/wds/ are this script's output:

    /usr/bin/python3 scripts/make_wds_fixtures.py test/fixtures/wds      (Debian: apt-get install python3-pil)

Packages:
  shapes/          4 classes, class 1 the empty string; test: 3 shards of 5, 2 and 4 samples (a global PAX header, a
                   directory entry and an unrelated member in shard 0); train: 11 shards (10.tar sorts before 2.tar),
                   shard 3 in GNU format with long names (././@LongLink `L`) and a symlink with a long target (`K`);
                   images cycle .webp (lossless), .png, .jpg
  reorder/         Caltech-101-like: classnames.txt in another order (and spelling) than the paper's list
  voc-multilabel/  dataset_type.txt "multilabel", a 20-long float32 0/1 .npy per sample instead of .cls
  bad-nolabel/, bad-noimage/, bad-label/, bad-image/   one fault each (see BAD below)
Each package gets a manifest.json (not part of the layout) listing every sample: shard, key, label/target, image
extension and the sha256 of the image bytes, which the tests compare with what the loader reads.
"""
import hashlib
import io
import json
import os
import struct
import sys
import tarfile

from PIL import Image

MTIME = 1700000000.25  # fractional, as webdataset's time.time(): tarfile writes it in a PAX record
EXTS = ['webp', 'png', 'jpg']
COLOURS = [(200, 30, 30), (240, 240, 240), (30, 180, 60), (40, 60, 220)]


def image_bytes(i, label, ext, size=(24, 20)):
    """A small deterministic picture: the class colour with a stripe whose position depends on the sample."""
    img = Image.new('RGB', size, COLOURS[label % len(COLOURS)])
    px = img.load()
    for y in range(size[1]):
        px[(i * 3) % size[0], y] = (i * 37 % 256, i * 91 % 256, i * 53 % 256)
    if ext == 'png' and i % 2 == 1:
        img = img.convert('L')  # a grey image among the colour ones
    buf = io.BytesIO()
    if ext == 'webp':
        img.save(buf, format='WEBP', lossless=True)
    elif ext == 'png':
        img.save(buf, format='PNG')
    else:
        img.save(buf, format='JPEG', quality=95)
    return buf.getvalue()


def npy_f4(vec):
    """numpy.save of a 1-d float32 array (format 1.0, header padded to a multiple of 64 bytes)."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % len(vec)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + ' ' * pad + '\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1') + struct.pack('<%df' % len(vec), *vec)


def add(tar, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = MTIME
    ti.mode = 0o644
    tar.addfile(ti, io.BytesIO(data))


def write_shard(path, samples, fmt=tarfile.PAX_FORMAT, prefix='', extras=None, global_pax=None):
    """samples: list of dicts {key, members: {ext: bytes}}; members written in sorted extension order."""
    kw = {'format': fmt}
    if global_pax:
        kw['pax_headers'] = global_pax
    with tarfile.open(path, 'w', **kw) as tar:
        for extra in (extras or []):
            extra(tar)
        for s in samples:
            for ext in sorted(s['members']):
                add(tar, f"{prefix}{s['key']}.{ext}", s['members'][ext])


def write_text(path, text):
    with open(path, 'w', encoding='utf-8', newline='') as f:
        f.write(text)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def make_samples(start, labels, ext_offset=0, drop=None, label_override=None, corrupt=()):
    out = []
    for j, label in enumerate(labels):
        i = start + j
        ext = EXTS[(i + ext_offset) % len(EXTS)]
        key = 's%07d' % i
        img = b'not an image at all' if i in corrupt else image_bytes(i, label, ext)
        members = {ext: img, 'cls': str(label_override.get(i, label) if label_override else label).encode()}
        if drop and i in drop:
            for d in drop[i]:
                members.pop(d)
        out.append({'key': key, 'members': members, 'label': label, 'ext': ext, 'sha': sha(img)})
    return out


def write_split(pkg, split, shards, manifest, shard_kw=None):
    shard_kw = shard_kw or {}
    os.makedirs(os.path.join(pkg, split), exist_ok=True)
    write_text(os.path.join(pkg, split, 'nshards.txt'), f'{len(shards)}\n')
    entries = []
    for n, samples in enumerate(shards):
        kw = shard_kw.get(n, {})
        write_shard(os.path.join(pkg, split, f'{n}.tar'), samples, **kw)
        for s in samples:
            e = {'shard': n, 'key': kw.get('prefix', '') + s['key'], 'ext': s['ext'], 'sha256': s['sha']}
            if 'target' in s:
                e['target'] = s['target']
            else:
                e['label'] = s['label']
            entries.append(e)
    manifest[split] = entries


def shapes(root):
    pkg = os.path.join(root, 'shapes')
    os.makedirs(pkg, exist_ok=True)
    write_text(os.path.join(pkg, 'classnames.txt'), 'red square\n\ngreen circle\nblue triangle\n')
    write_text(os.path.join(pkg, 'zeroshot_classification_templates.txt'), 'a photo of a {c}.\na drawing of the {c}.\n')
    manifest = {}
    # test: 5 + 2 + 4 samples; labels cover every class, the empty one included
    test_labels = [0, 1, 2, 3, 1, 2, 0, 3, 3, 1, 0]
    sizes = [5, 2, 4]
    shards, k = [], 0
    for sz in sizes:
        shards.append(make_samples(k, test_labels[k:k + sz]))
        k += sz

    def dir_and_extra(tar):
        d = tarfile.TarInfo('extra')
        d.type = tarfile.DIRTYPE
        d.mtime = MTIME
        d.mode = 0o755
        tar.addfile(d)
        add(tar, 'extra/README', b'not a sample member\n')

    write_split(pkg, 'test', shards, manifest, {0: {'extras': [dir_and_extra], 'global_pax': {'comment': 'clip-bench test fixture'}}})
    # train: 11 shards of 1-2 samples; shard 3 in GNU format with long member names and a long symlink target
    train_shards, k = [], 0
    for n in range(11):
        sz = 2 if n % 3 == 0 else 1
        train_shards.append(make_samples(k, [(k + j) % 4 for j in range(sz)], ext_offset=1))
        k += sz
    long_dir = 'a-very-long-directory-name-' + 'x' * 90 + '/'

    def long_link(tar):
        ln = tarfile.TarInfo('link-to-nowhere')
        ln.type = tarfile.SYMTYPE
        ln.linkname = 'target-' + 'y' * 120
        ln.mtime = 1700000000
        tar.addfile(ln)

    write_split(pkg, 'train', train_shards, manifest, {3: {'fmt': tarfile.GNU_FORMAT, 'prefix': long_dir, 'extras': [long_link]}})
    write_text(os.path.join(pkg, 'manifest.json'), json.dumps(manifest, indent=1) + '\n')


def reorder(root):
    pkg = os.path.join(root, 'reorder')
    os.makedirs(pkg, exist_ok=True)
    # tfds-style alphabetical order, with the spelling of folder names; the paper's list is in the test
    write_text(os.path.join(pkg, 'classnames.txt'), 'accordion\nAirplane\nbackground\ncentered_face\n')
    write_text(os.path.join(pkg, 'zeroshot_classification_templates.txt'), 'a photo of a {c}.\n')
    manifest = {}
    write_split(pkg, 'test', [make_samples(0, [0, 1, 2, 3, 2, 1])], manifest)
    write_text(os.path.join(pkg, 'manifest.json'), json.dumps(manifest, indent=1) + '\n')


VOC = ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'dining table', 'dog',
       'horse', 'motorbike', 'person', 'potted plant', 'sheep', 'sofa', 'train', 'tv monitor']


def voc(root):
    pkg = os.path.join(root, 'voc-multilabel')
    os.makedirs(pkg, exist_ok=True)
    write_text(os.path.join(pkg, 'classnames.txt'), '\n'.join(VOC) + '\n')
    write_text(os.path.join(pkg, 'zeroshot_classification_templates.txt'), 'a photo of a {c}.\n')
    write_text(os.path.join(pkg, 'dataset_type.txt'), 'multilabel\n')
    targets = [[2, 14], [7], [0, 5, 6], [11, 14, 19]]
    samples = []
    for i, pos in enumerate(targets):
        vec = [1.0 if c in pos else 0.0 for c in range(20)]
        img = image_bytes(i, pos[0], 'webp')
        samples.append({'key': 's%07d' % i, 'members': {'webp': img, 'npy': npy_f4(vec)}, 'target': [int(v) for v in vec], 'ext': 'webp', 'sha': sha(img)})
    manifest = {}
    write_split(pkg, 'test', [samples], manifest)
    write_text(os.path.join(pkg, 'manifest.json'), json.dumps(manifest) + '\n')


# one fault each: the sample that has it is s0000002 of shard 1 (shard 0 is fine)
BAD = {
    'bad-nolabel': {'drop': {2: ['cls']}},
    'bad-noimage': {'drop': {2: ['webp', 'png', 'jpg']}},
    'bad-label': {'label_override': {2: 7}},
    'bad-image': {'corrupt': [2]},  # structurally fine: fails when the image is decoded
}


def bad(root):
    for name, fault in BAD.items():
        pkg = os.path.join(root, name)
        os.makedirs(pkg, exist_ok=True)
        write_text(os.path.join(pkg, 'classnames.txt'), 'red square\n\ngreen circle\nblue triangle\n')
        drop = fault.get('drop')
        if drop and 2 in drop:
            drop = {2: [e for e in drop[2] if e in ('cls', EXTS[2 % 3])]}
        manifest = {}
        write_split(pkg, 'test', [make_samples(0, [0, 1]), make_samples(2, [2, 3], drop=drop, label_override=fault.get('label_override'), corrupt=fault.get('corrupt', ()))], manifest)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/wds'
    os.makedirs(root, exist_ok=True)
    shapes(root)
    reorder(root)
    voc(root)
    bad(root)


if __name__ == '__main__':
    main()
