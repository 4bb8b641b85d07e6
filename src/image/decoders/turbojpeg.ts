/**
 * JPEG through libjpeg-turbo's TurboJPEG API, called directly (koffi, a foreign-function interface from npm), when
 * the system has the library (Debian/Ubuntu: `apt-get install libturbojpeg0`; macOS: `brew install jpeg-turbo`).
 * Pillow decodes with libjpeg-turbo's defaults (accurate integer IDCT, fancy upsampling), and so does tjDecompress2
 * with no flags: the same pixels. It skips libvips' per-image pipeline, which costs more than the decoding itself
 * on photo-sized images (README, Performance). Anything this path does not decode cleanly (a warning such as a
 * truncated file, CMYK, a library that will not load) goes to sharp, whose rules decide.
 */
import { createRequire } from 'node:module';
import { turbojpegSetting } from '../../defaults.js';
import type { RawImage } from '../types.js';

interface Turbo {
  header(b: Uint8Array, w: number[], h: number[], sub: number[], cs: number[]): number;
  /** on a libuv thread, like sharp's decodes: a batch decodes on several cores */
  decompress(b: Uint8Array, out: Uint8Array, w: number, h: number, pf: number): Promise<number>;
}

const TJPF_RGB = 0;
const TJPF_GRAY = 6;
const TJCS_RGB = 0;
const TJCS_YCbCr = 1;
const TJCS_GRAY = 2;
/** sharp's default limitInputPixels (0x3FFF squared) */
const SHARP_PIXEL_LIMIT = 0x3fff * 0x3fff;

/** Library names tried, in order; CLIP_BENCH_TURBOJPEG names a file, or `off` turns this path off. */
function candidates(): string[] {
  const env = turbojpegSetting();
  if (env === 'off') return [];
  if (env) return [env];
  return process.platform === 'darwin'
    ? ['libturbojpeg.0.dylib', '/opt/homebrew/lib/libturbojpeg.0.dylib', '/usr/local/lib/libturbojpeg.0.dylib']
    : process.platform === 'win32'
      ? ['turbojpeg.dll']
      : ['libturbojpeg.so.0'];
}

let turbo: Turbo | null | undefined;

/** The TurboJPEG functions, or null where the library (or koffi) is not there. One handle per thread. */
export function turbojpeg(): Turbo | null {
  if (turbo !== undefined) return turbo;
  turbo = null;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch {
    return null;
  }
  for (const name of candidates()) {
    try {
      const lib = koffi.load(name);
      const init = lib.func('void *tjInitDecompress()');
      const destroy = lib.func('int tjDestroy(void *h)');
      const header = lib.func('int tjDecompressHeader3(void *h, const uint8_t *buf, unsigned long size, _Out_ int *w, _Out_ int *hh, _Out_ int *sub, _Out_ int *cs)');
      const decompress = lib.func('int tjDecompress2(void *h, const uint8_t *buf, unsigned long size, _Out_ uint8_t *dst, int w, int pitch, int hh, int pf, int flags)');
      const main: unknown = init();
      if (!main) continue;
      // a handle serves one call at a time: the header is read here, each decode takes a handle of its own
      const free: unknown[] = [];
      turbo = {
        header: (b, w, h, sub, cs) => header(main, b, b.length, w, h, sub, cs) as number,
        // no flags: libjpeg-turbo's defaults, as Pillow; a warning (truncated data) also returns -1
        decompress: (b, out, w, h, pf) =>
          new Promise((resolve, reject) => {
            const handle = free.pop() ?? init();
            decompress.async(handle, b, b.length, out, w, 0, h, pf, 0, (err: unknown, rc: number) => {
              if (free.length < 64) free.push(handle);
              else destroy(handle);
              if (err) reject(err instanceof Error ? err : new Error(String(err)));
              else resolve(rc);
            });
          }),
      };
      return turbo;
    } catch {
      // not this name
    }
  }
  return null;
}

/** An RGB (YCbCr or RGB) or greyscale JPEG as Pillow opens it (mode RGB or L), or null: let sharp decode it. */
export async function decodeJpegTurbo(bytes: Uint8Array): Promise<RawImage | null> {
  const t = turbojpeg();
  if (!t) return null;
  const w = [0];
  const h = [0];
  const sub = [0];
  const cs = [0];
  if (t.header(bytes, w, h, sub, cs) !== 0) return null;
  // past sharp's pixel limit (a decompression bomb) sharp refuses it with its own error: leave it to sharp
  if (w[0]! * h[0]! > SHARP_PIXEL_LIMIT) return null;
  const grey = cs[0] === TJCS_GRAY;
  if (!grey && cs[0] !== TJCS_YCbCr && cs[0] !== TJCS_RGB) return null; // CMYK / YCCK
  const channels = grey ? 1 : 3;
  const data = new Uint8Array(w[0] * h[0] * channels);
  if ((await t.decompress(bytes, data, w[0], h[0], grey ? TJPF_GRAY : TJPF_RGB)) !== 0) return null;
  return { data, width: w[0], height: h[0], channels };
}
