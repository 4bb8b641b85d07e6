/**
 * Binary Netpbm (P4 PBM, P5 PGM, P6 PPM) as Pillow 9.4's PpmImagePlugin reads it. No npm decoder for it is kept up,
 * and torchvision's ImageFolder lists .ppm and .pgm, so clip-bench reads the format itself: a text header and raw
 * samples. Pillow's rules: maxval 255 is copied; another maxval is rescaled with round(v / maxval * out_max) (Python's
 * round, half to even), out_max 255, except grey with maxval > 255, which opens as mode I with out_max 65535.
 */
import type { RawImage } from '../types.js';

/** Python's round(): ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

export function decodePnm(b: Uint8Array): RawImage {
  const kind = b[1] - 0x30;
  if (kind < 4 || kind > 6) throw new Error(`Netpbm P${kind} is not supported (binary P4, P5 and P6 are)`);
  // header tokens: width, height[, maxval], separated by whitespace and # comments, then one whitespace byte
  const want = kind === 4 ? 2 : 3;
  const tokens: number[] = [];
  let o = 2;
  const space = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
  while (tokens.length < want) {
    while (o < b.length && (space(b[o]) || b[o] === 0x23)) {
      if (b[o] === 0x23) while (o < b.length && b[o] !== 0x0a && b[o] !== 0x0d) o++;
      else o++;
    }
    let v = 0;
    const start = o;
    while (o < b.length && b[o] >= 0x30 && b[o] <= 0x39) v = v * 10 + b[o++] - 0x30;
    if (o === start || o >= b.length) throw new Error('Netpbm header is malformed');
    tokens.push(v);
  }
  if (!space(b[o])) throw new Error('Netpbm header is malformed');
  o++;
  const [width, height, maxval = 1] = tokens;
  if (width <= 0 || height <= 0) throw new Error(`Netpbm size ${width}x${height} is invalid`);
  if (maxval <= 0 || maxval >= 65536) throw new Error(`Netpbm maxval ${maxval} is out of range`);
  const pixels = width * height;

  if (kind === 4) {
    // PIL mode 1: bit 1 is black, rows padded to whole bytes
    const rowBytes = (width + 7) >> 3;
    if (o + rowBytes * height > b.length) throw new Error('Netpbm image data is truncated');
    const data = new Uint8Array(pixels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[y * width + x] = (b[o + y * rowBytes + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 255;
    }
    return { data, width, height, channels: 1, palette: true };
  }

  const channels = kind === 6 ? 3 : 1;
  const wide = maxval > 255;
  const samples = pixels * channels;
  if (o + samples * (wide ? 2 : 1) > b.length) throw new Error('Netpbm image data is truncated');
  const read = (i: number): number => (wide ? (b[o + 2 * i] << 8) | b[o + 2 * i + 1] : b[o + i]);
  if (channels === 1 && wide) {
    // PIL mode I: 16-bit grey rescaled to 0..65535
    const data16 = new Uint16Array(pixels);
    for (let i = 0; i < pixels; i++) data16[i] = Math.min(65535, roundHalfEven((read(i) / maxval) * 65535));
    return { data: new Uint8Array(data16.buffer), width, height, channels: 1, mode: 'I' };
  }
  const data = new Uint8Array(samples);
  if (maxval === 255) data.set(b.subarray(o, o + samples));
  else for (let i = 0; i < samples; i++) data[i] = Math.min(255, roundHalfEven((read(i) / maxval) * 255));
  return { data, width, height, channels: channels as 1 | 3 };
}
