// Generated JPEGs for the benchmarks: photo-like content (gradients, blobs, texture, noise), seeded.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** ImageNet-like sizes (w x h), used in turn. */
export const IMAGENET_SIZES = [[500, 375], [375, 500], [500, 333], [333, 500], [640, 480], [480, 640], [500, 500], [800, 600], [400, 300], [500, 400]];

export function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Smooth colour gradients, a few blobs and some noise: JPEG-compresses like a photo, not like flat colour or white noise. */
function synthImage(w, h, rnd) {
  const data = Buffer.alloc(w * h * 3);
  const c0 = [rnd() * 255, rnd() * 255, rnd() * 255];
  const dx = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5].map((v) => (v * 400) / w);
  const dy = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5].map((v) => (v * 400) / h);
  const blobs = Array.from({ length: 6 }, () => ({ x: rnd() * w, y: rnd() * h, r2: (0.02 + rnd() * 0.1) * w * h, c: [rnd() * 255, rnd() * 255, rnd() * 255] }));
  const fx = 0.02 + rnd() * 0.1;
  for (let y = 0, p = 0; y < h; y++) {
    for (let x = 0; x < w; x++, p += 3) {
      let wsum = 0;
      const acc = [0, 0, 0];
      for (const b of blobs) {
        const d2 = (x - b.x) ** 2 + (y - b.y) ** 2;
        if (d2 < b.r2) {
          const k = 1 - d2 / b.r2;
          wsum += k;
          for (let c = 0; c < 3; c++) acc[c] += k * b.c[c];
        }
      }
      const tex = 20 * Math.sin(x * fx) * Math.cos(y * fx * 1.3);
      for (let c = 0; c < 3; c++) {
        const base = c0[c] + dx[c] * x + dy[c] * y;
        const mix = wsum > 0 ? (base + acc[c]) / (1 + wsum) : base;
        data[p + c] = mix + tex + (rnd() - 0.5) * 24;
      }
    }
  }
  return data;
}

/**
 * n JPEGs (quality 90) as an image folder dir/test/classNN/imgNNNNN.jpg, sizes used in turn; generated once
 * (dir/.complete marks a finished set). Returns dir.
 */
export async function makeJpegs(dir, n, sizes, { classes = 10, log = () => {} } = {}) {
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  log(`generating ${n} JPEGs in ${dir} ...`);
  fs.rmSync(dir, { recursive: true, force: true });
  const rnd = mulberry32(12345);
  for (let i = 0; i < n; i++) {
    const [w, h] = sizes[i % sizes.length];
    const d = path.join(dir, 'test', `class${String(i % classes).padStart(2, '0')}`);
    fs.mkdirSync(d, { recursive: true });
    await sharp(synthImage(w, h, rnd), { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path.join(d, `img${String(i).padStart(5, '0')}.jpg`));
  }
  fs.writeFileSync(done, '');
  return dir;
}
