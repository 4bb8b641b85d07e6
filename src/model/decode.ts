import sharp from 'sharp';
import { UserError } from '../errors.js';
import type { RawImage } from './types.js';

/**
 * Decode an image file (or its bytes) to 8-bit interleaved samples in the file's own layout, as PIL's
 * Image.open would see them: grey stays 1 (or 2 with alpha) channels, no EXIF rotation, no ICC colour
 * conversion (PIL applies neither). Palette PNG/GIF come back expanded to RGB(A) with `palette: true`,
 * since PIL resizes mode P (and mode 1) with NEAREST, which commutes with the palette lookup.
 */
export async function decodeImage(input: Buffer | string): Promise<RawImage> {
  const name = typeof input === 'string' ? input : 'image buffer';
  try {
    const opts = { ignoreIcc: true, failOn: 'error' as const, autoOrient: false };
    const meta = await sharp(input, opts).metadata();
    const grey = meta.space === 'b-w' || meta.space === 'grey16';
    const { data, info } = await sharp(input, opts)
      // sharp would otherwise widen grey to sRGB on output; CMYK etc. become sRGB
      .toColourspace(grey ? 'b-w' : 'srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels < 1 || channels > 4) throw new Error(`unsupported channel count ${channels}`);
    const img: RawImage = {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: channels as RawImage['channels'],
    };
    // palette, or 1-bit grey (PIL mode "1"): both resized with NEAREST by PIL
    if (meta.isPalette || (grey && meta.bitsPerSample === 1)) img.palette = true;
    return img;
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new UserError(`${name}: cannot decode image (${msg})`);
  }
}
