/**
 * BMP, TGA and ICO, which libvips (as sharp ships it) does not read, through small npm decoders that give RGBA;
 * the samples are then laid out in the PIL mode Pillow 9.4 opens the file in (from its header, see header.ts).
 */
import decodeBmpRgba from 'decode-bmp';
import decodeIcoEntries from 'decode-ico';
import { decodeTga as decodeTgaRgba } from '@lunapaint/tga-codec';
import type { RawImage } from '../types.js';
import type { PilMode } from './header.js';

/** RGBA samples laid out as PIL mode `mode` has them (grey from the red channel: the decoders expand grey to R = G = B). */
export function fromRgba(rgba: Uint8Array, width: number, height: number, mode: PilMode): RawImage {
  const pixels = width * height;
  if (rgba.length < pixels * 4) throw new Error('decoded image data is too short');
  const take = (which: number[]): Uint8Array => {
    const out = new Uint8Array(pixels * which.length);
    for (let p = 0, o = 0; p < pixels; p++) for (const c of which) out[o++] = rgba[p * 4 + c];
    return out;
  };
  switch (mode) {
    case '1':
      return { data: take([0]), width, height, channels: 1, palette: true };
    case 'L':
      return { data: take([0]), width, height, channels: 1 };
    case 'LA':
      return { data: take([0, 3]), width, height, channels: 2 };
    case 'P':
      return { data: take([0, 1, 2]), width, height, channels: 3, palette: true };
    case 'RGB':
      return { data: take([0, 1, 2]), width, height, channels: 3 };
    case 'RGBA':
      return { data: new Uint8Array(rgba.buffer, rgba.byteOffset, pixels * 4), width, height, channels: 4 };
    default:
      throw new Error(`mode ${mode} from this decoder is not supported`);
  }
}

export function decodeBmp(bytes: Uint8Array, mode: PilMode): RawImage {
  const img = decodeBmpRgba(bytes);
  return fromRgba(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length), img.width, img.height, mode);
}

export async function decodeTga(bytes: Uint8Array, mode: PilMode): Promise<RawImage> {
  const { image } = await decodeTgaRgba(bytes, { strictMode: false });
  return fromRgba(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height, mode);
}

/**
 * Pillow opens an icon's largest image (by area; of equal ones, the last in the file). A PNG image is returned as
 * its bytes, to be decoded as any PNG; a BMP image comes as RGBA with its AND mask as alpha, as Pillow makes it.
 */
export async function decodeIco(bytes: Uint8Array): Promise<RawImage | { png: Buffer }> {
  // decode-ico reads entries through the underlying ArrayBuffer: give it one that ends where the file ends
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  const entries = decodeIcoEntries(whole);
  if (entries.length === 0) throw new Error('icon without images');
  let best = entries[0];
  for (const e of entries) if (e.width * e.height >= best.width * best.height) best = e;
  if (best.type === 'png') return { png: Buffer.from(best.data.buffer, best.data.byteOffset, best.data.length) };
  return fromRgba(new Uint8Array(best.data.buffer, best.data.byteOffset, best.data.length), best.width, best.height, 'RGBA');
}
