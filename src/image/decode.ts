import fs from 'node:fs';
import type { Sharp, SharpOptions } from 'sharp';
import { UserError } from '../errors.js';
import type { RawImage } from './types.js';
import { gifFirstFrame, readHeader, sniff, type Format, type GifFrame, type PilMode } from './decoders/header.js';
import { decodeBmp, decodeIco, decodeTga, fromRgba } from './decoders/js-decoders.js';
import { decodePnm } from './decoders/pnm.js';
import { decodeJpegTurbo } from './decoders/turbojpeg.js';

/** What clip-bench opens, in the words of its error message. */
export const SUPPORTED_FORMATS = 'JPEG, PNG, GIF, WebP, TIFF, BMP, ICO, TGA and binary PPM/PGM/PBM';

/**
 * Decode an image file (or its bytes) to the samples Pillow 9.4's Image.open gives, in the layout of the PIL mode it
 * opens the file in (see RawImage): grey stays 1 channel (2 with alpha), CMYK stays CMYK, 16-bit grey stays 16-bit,
 * palette images come expanded with `palette: true` (PIL resizes P and 1 with NEAREST, which commutes with the
 * palette lookup). No EXIF rotation and no ICC colour conversion: PIL applies neither.
 *
 * The file is read once and parsed once: its header says the format and the mode, then one decoder runs.
 */
export async function decodeImage(input: Buffer | string): Promise<RawImage> {
  const name = typeof input === 'string' ? input : 'image buffer';
  let bytes: Buffer;
  try {
    bytes = typeof input === 'string' ? await fs.promises.readFile(input) : input;
  } catch (err) {
    throw new UserError(`${name}: cannot read image (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const format = sniff(bytes);
  if (!format) throw new UserError(`${name}: cannot decode image (not a format clip-bench reads: ${SUPPORTED_FORMATS})`);
  try {
    return await decodeBytes(bytes, format);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${name}: ${err.message}`);
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new UserError(`${name}: cannot decode image (${msg})`);
  }
}

async function decodeBytes(bytes: Buffer, format: Format): Promise<RawImage> {
  const { mode } = readHeader(bytes, format);
  if (mode === 'I;16') {
    // PIL opens 16-bit grey TIFF as I;16, which Image.resize refuses ("image has wrong mode"): clip.py cannot embed it
    throw new UserError('16-bit greyscale TIFF opens in Pillow as mode I;16, which clip.py\'s Resize cannot resize; convert it to 8 bits');
  }
  switch (format) {
    case 'bmp':
      return decodeBmp(bytes, mode!);
    case 'tga':
      return decodeTga(bytes, mode!);
    case 'ico': {
      const png = await decodeIco(bytes);
      return 'data' in png ? png : decodeBytes(png.png, 'png');
    }
    case 'pnm':
      return decodePnm(bytes);
    case 'gif': {
      // with alpha where there is any, so that the transparent pixels can be found
      const img = await viaSharp(bytes, 'RGBA');
      return { ...fillGif(img, gifFirstFrame(bytes)), palette: true };
    }
    case 'jpeg':
      // libjpeg-turbo directly where the system has it (same pixels, no libvips pipeline); sharp otherwise
      return ((mode === 'RGB' || mode === 'L') && (await decodeJpegTurbo(bytes))) || viaSharp(bytes, mode);
    default:
      return viaSharp(bytes, mode);
  }
}

const OPTIONS = { ignoreIcc: true, failOn: 'error' as const, autoOrient: false };

/** sharp (libvips) is loaded on first use: the binary-format datasets and the libjpeg-turbo path never touch it. */
let sharpLoaded: Promise<(input: Buffer, options: SharpOptions) => Sharp> | undefined;
function loadSharp(): Promise<(input: Buffer, options: SharpOptions) => Sharp> {
  sharpLoaded ??= import('sharp').then((m) => m.default);
  return sharpLoaded;
}

/** JPEG, PNG, GIF, WebP and TIFF through libvips, asked for the layout of the PIL mode (exported for tests). */
export async function viaSharp(bytes: Buffer, mode: PilMode | undefined): Promise<RawImage> {
  let s = (await loadSharp())(bytes, OPTIONS);
  if (mode === 'L' || mode === '1') s = s.toColourspace('b-w'); // drops a tRNS alpha, as convert('RGB') ignores it
  else if (mode === 'I') s = s.removeAlpha().toColourspace('grey16'); // a tRNS alpha too
  // CMYK samples as stored (libvips inverts Adobe JPEGs, as PIL's CMYK;I does), converted after the resize
  else if (mode === 'CMYK') s = s.pipelineColourspace('cmyk').toColourspace('cmyk');
  else if (mode === 'RGB' || mode === 'P') s = s.removeAlpha().toColourspace('srgb');
  else s = s.toColourspace('srgb'); // LA comes as RGBA with R = G = B
  const { data, info } = await s.raw({ depth: mode === 'I' ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const bytesOut = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (mode === 'I') {
    if (channels !== 1) throw new Error(`16-bit grey decoded to ${channels} channels`);
    // native-endian uint16, 2-byte aligned
    const aligned = data.byteOffset % 2 === 0 ? bytesOut : bytesOut.slice();
    return { data: aligned, width, height, channels: 1, mode: 'I' };
  }
  if (mode === 'LA' && channels === 4) return fromRgba(bytesOut, width, height, 'LA');
  if (channels < 1 || channels > 4) throw new Error(`unsupported channel count ${channels}`);
  const img: RawImage = { data: bytesOut, width, height, channels: channels as RawImage['channels'] };
  if (mode === 'CMYK') {
    if (channels !== 4) throw new Error(`CMYK decoded to ${channels} channels`);
    img.mode = 'CMYK';
  }
  if (mode === 'P' || mode === '1') img.palette = true;
  return img;
}

/**
 * RGB of a GIF's first frame as Pillow has it: where libvips leaves the screen transparent (transparent index) or
 * black (outside the frame), Pillow keeps an index, whose palette colour convert('RGB') gives.
 */
function fillGif(img: RawImage, frame: GifFrame): RawImage {
  const { data, width, height, channels: nb } = img;
  if (nb !== 3 && nb !== 4) throw new Error(`GIF decoded to ${nb} channels`);
  const out = new Uint8Array(width * height * 3);
  const { fill } = frame;
  for (let y = 0, p = 0, o = 0; y < height; y++) {
    const rowInside = y >= frame.y && y < frame.y + frame.height;
    for (let x = 0; x < width; x++, p += nb, o += 3) {
      const open = !rowInside || x < frame.x || x >= frame.x + frame.width || (nb === 4 && data[p + 3] === 0);
      out[o] = open ? fill[0] : data[p];
      out[o + 1] = open ? fill[1] : data[p + 1];
      out[o + 2] = open ? fill[2] : data[p + 2];
    }
  }
  return { data: out, width, height, channels: 3 };
}
