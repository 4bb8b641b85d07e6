/**
 * What an image file is and which PIL mode Pillow 9.4 opens it in, read from the file's first bytes (no decode).
 * The mode decides how clip.py's transform treats the image: the resize runs in the image's own mode (P and 1 with
 * NEAREST, LA/RGBA premultiplied, I in 32-bit integers) and convert('RGB') comes after it.
 */

export type Format = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | 'ico' | 'pnm' | 'tga';
/** PIL modes clip-bench reproduces ('I;16' is recognised only to be refused, as clip.py's Resize refuses it). */
export type PilMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA' | 'CMYK' | 'I' | 'I;16';

export interface Header {
  format: Format;
  /** undefined where the decoder reports it (WebP: alpha or not) */
  mode?: PilMode;
}

const u16be = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number): number => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const u16le = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const u32le = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + ((b[o + 3] << 24) >>> 0);
const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));

export class HeaderError extends Error {}

/** The format by magic number; TGA (which has none) by Pillow's plausibility checks; undefined if none fits. */
export function sniff(b: Uint8Array): Format | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return 'tiff';
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 6 && u16le(b, 0) === 0 && u16le(b, 2) === 1 && u16le(b, 4) > 0) return 'ico';
  if (b.length >= 3 && b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x37 && /\s/.test(String.fromCharCode(b[2]))) return 'pnm';
  if (isTga(b)) return 'tga';
  return undefined;
}

/** Pillow's TgaImageFile._open checks (TGA has no magic number, so Pillow tries it after the others). */
function isTga(b: Uint8Array): boolean {
  if (b.length < 18) return false;
  const colormaptype = b[1];
  const imagetype = b[2];
  const depth = b[16];
  const flags = b[17];
  return (
    (colormaptype === 0 || colormaptype === 1) &&
    [1, 2, 3, 9, 10, 11].includes(imagetype) &&
    [8, 16, 24, 32].includes(depth) &&
    u16le(b, 12) > 0 &&
    u16le(b, 14) > 0 &&
    (flags & 0x30) !== 0x10 && (flags & 0x30) !== 0x30 // right-to-left: Pillow raises
  );
}

/** The header of a file of the given format: the PIL mode Pillow opens it in. */
export function readHeader(b: Uint8Array, format: Format): Header {
  switch (format) {
    case 'png':
      return { format, mode: pngMode(b) };
    case 'jpeg':
      return { format, mode: jpegMode(b) };
    case 'gif':
      return { format, mode: 'P' };
    case 'tiff':
      return { format, mode: tiffMode(b) };
    case 'bmp':
      return { format, mode: bmpMode(b) };
    case 'tga':
      return { format, mode: tgaMode(b) };
    default:
      return { format };
  }
}

/** PngImagePlugin's _MODES: (bit depth, colour type) -> mode. 16-bit grey + alpha opens as RGBA (same pixels as LA). */
function pngMode(b: Uint8Array): PilMode {
  if (b.length < 29 || ascii(b, 12, 4) !== 'IHDR') throw new HeaderError('PNG without an IHDR chunk');
  const depth = b[24];
  const type = b[25];
  switch (type) {
    case 0:
      return depth === 1 ? '1' : depth === 16 ? 'I' : 'L';
    case 2:
      return 'RGB';
    case 3:
      return 'P';
    case 4:
      return 'LA';
    case 6:
      return 'RGBA';
    default:
      throw new HeaderError(`PNG colour type ${type} is not defined`);
  }
}

/** Components of the first SOF marker: 1 L, 3 RGB (YCbCr), 4 CMYK (PIL inverts Adobe CMYK, as libvips does). */
function jpegMode(b: Uint8Array): PilMode {
  let o = 2;
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) throw new HeaderError('JPEG markers out of sync');
    const m = b[o + 1];
    if (m === 0xff) {
      o++; // fill byte
      continue;
    }
    const len = u16be(b, o + 2);
    // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const nf = b[o + 9];
      if (nf === 1) return 'L';
      if (nf === 3) return 'RGB';
      if (nf === 4) return 'CMYK';
      throw new HeaderError(`JPEG with ${nf} components`);
    }
    if (m === 0xda) break; // start of scan before any frame header
    o += 2 + len;
  }
  throw new HeaderError('JPEG without a frame header');
}

/** TiffImagePlugin's OPEN_INFO for the common layouts, from the first IFD. */
function tiffMode(b: Uint8Array): PilMode {
  const le = b[0] === 0x49;
  const r16 = (o: number): number => (le ? u16le(b, o) : u16be(b, o));
  const r32 = (o: number): number => (le ? u32le(b, o) : u32be(b, o));
  let ifd = r32(4);
  if (ifd + 2 > b.length) throw new HeaderError('TIFF directory beyond the end of the file');
  const n = r16(ifd);
  ifd += 2;
  let photometric = -1;
  let samples = 1;
  let bits = 1;
  for (let i = 0; i < n && ifd + 12 * i + 12 <= b.length; i++) {
    const e = ifd + 12 * i;
    const tag = r16(e);
    const type = r16(e + 2);
    const count = r32(e + 4);
    // first value of a SHORT/LONG field, inline or at its offset
    const first = (): number => {
      const size = type === 3 ? 2 : 4;
      const at = count * size <= 4 ? e + 8 : r32(e + 8);
      return type === 3 ? r16(at) : r32(at);
    };
    if (tag === 258) bits = first();
    else if (tag === 262) photometric = first();
    else if (tag === 277) samples = first();
  }
  if (photometric === 3) return 'P';
  if (photometric === 5) return 'CMYK';
  if (photometric === 0 || photometric === 1) {
    if (bits === 16 && samples === 1) return 'I;16';
    if (bits > 8) throw new HeaderError(`${bits}-bit greyscale TIFF is not supported`);
    if (bits === 1) return '1';
    return samples >= 2 ? 'LA' : 'L';
  }
  return samples >= 4 ? 'RGBA' : 'RGB';
}

/**
 * BmpImagePlugin: 1/4/8 bits with a grey-ramp palette open as 1 (two colours) or L, other palettes as P; 24 and
 * 32 bits as RGB (the fourth byte of uncompressed 32-bit BMP is padding to Pillow).
 * The decoder used (decode-bmp) reads uncompressed bottom-up BMP with a Windows header and the pixels right after
 * the palette, which is what almost every writer makes; other variants are refused by name rather than misread.
 */
function bmpMode(b: Uint8Array): PilMode {
  const headerSize = u32le(b, 14);
  if (headerSize < 40) throw new HeaderError('OS/2 BMP (12-byte header) is not supported');
  const bits = u16le(b, 28);
  const compression = u32le(b, 30);
  if (compression === 1 || compression === 2) throw new HeaderError(`RLE${compression === 1 ? 8 : 4}-compressed BMP is not supported`);
  // 32-bit bit fields in a V4/V5 header with the usual BGRA / BGRX masks are laid out as decode-bmp reads them
  const fields = compression === 3 && bits === 32 && headerSize >= 56 && u32le(b, 54) === 0xff0000 && u32le(b, 58) === 0xff00 && u32le(b, 62) === 0xff;
  const alpha = fields ? u32le(b, 66) : 0;
  if (compression !== 0 && !(fields && (alpha === 0 || alpha === 0xff000000))) {
    throw new HeaderError(`BMP compression ${compression} (bit fields other than 32-bit BGRA/BGRX, embedded JPEG/PNG) is not supported`);
  }
  if ((u32le(b, 22) | 0) < 0) throw new HeaderError('top-down BMP (negative height) is not supported');
  if (![1, 2, 4, 8, 24, 32].includes(bits)) throw new HeaderError(`${bits}-bit BMP is not supported`);
  const used = u32le(b, 46);
  const colours = bits > 8 ? used : used > 0 ? used : 1 << bits;
  if (u32le(b, 10) !== 14 + headerSize + 4 * colours) throw new HeaderError('BMP with a gap before its pixel data is not supported');
  if (bits > 8) return alpha ? 'RGBA' : 'RGB';
  const entry = 4;
  const pal = 14 + headerSize;
  if (pal + colours * entry > b.length) throw new HeaderError('BMP palette beyond the end of the file');
  const levels = colours === 2 ? [0, 255] : Array.from({ length: colours }, (_, i) => i);
  // palette entries are BGR(X)
  const grey = levels.every((v, i) => b[pal + i * entry] === v && b[pal + i * entry + 1] === v && b[pal + i * entry + 2] === v);
  if (!grey) return 'P';
  return colours === 2 ? '1' : 'L';
}

/** TgaImagePlugin: grey 3/11, colour-mapped 1/9, true colour 2/10 (32 bits: RGBA). */
function tgaMode(b: Uint8Array): PilMode {
  const imagetype = b[2];
  const depth = b[16];
  if (imagetype === 3 || imagetype === 11) return depth === 16 ? 'LA' : 'L';
  if (imagetype === 1 || imagetype === 9) return 'P';
  return depth === 32 ? 'RGBA' : 'RGB';
}

/** A GIF's first frame: where it lies on the screen, and the colour Pillow gives what it leaves open. */
export interface GifFrame {
  x: number;
  y: number;
  width: number;
  height: number;
  /**
   * The palette entry of the frame's transparent index (Pillow keeps the index; convert('RGB') looks it up), or of
   * index 0 where there is none (Pillow fills the screen outside the frame with the transparent index, else 0).
   */
  fill: [number, number, number];
}

export function gifFirstFrame(b: Uint8Array): GifFrame {
  const flags = b[10];
  const globalAt = 13;
  const globalSize = flags & 0x80 ? 3 << ((flags & 7) + 1) : 0;
  let o = globalAt + globalSize;
  let transparent = -1;
  while (o < b.length) {
    const kind = b[o];
    if (kind === 0x21) {
      // extension: label, then sub-blocks
      if (b[o + 1] === 0xf9 && b[o + 2] >= 4 && b[o + 3] & 1) transparent = b[o + 6];
      o += 2;
      while (o < b.length && b[o] !== 0) o += b[o] + 1;
      o++;
    } else if (kind === 0x2c) {
      const local = b[o + 9];
      const index = transparent >= 0 ? transparent : 0;
      const at = local & 0x80 ? o + 10 : globalSize ? globalAt : -1;
      const size = local & 0x80 ? 3 << ((local & 7) + 1) : globalSize;
      const outside = at < 0 || 3 * index + 2 >= size || at + 3 * index + 2 >= b.length; // Pillow: black
      const fill: [number, number, number] = outside ? [0, 0, 0] : [b[at + 3 * index], b[at + 3 * index + 1], b[at + 3 * index + 2]];
      return { x: u16le(b, o + 1), y: u16le(b, o + 3), width: u16le(b, o + 5), height: u16le(b, o + 7), fill };
    } else break;
  }
  throw new HeaderError('GIF without an image');
}
