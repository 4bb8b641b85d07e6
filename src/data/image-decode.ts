import type { RawImage } from '../model/types.js';

type DecodeFn = (input: Buffer | string) => Promise<RawImage>;
let decoder: Promise<DecodeFn> | undefined;

/**
 * decodeImage from src/model/decode.ts, imported on first use so that the dataset modules load
 * (and the binary-format datasets work) without sharp being touched.
 */
export function decodeImageFile(file: string): Promise<RawImage> {
  return decodeImageData(file);
}

/** decodeImage of a file path or of an image's bytes already in memory (a tar member). */
export function decodeImageData(input: Buffer | string): Promise<RawImage> {
  decoder ??= import('../model/decode.js').then((m) => m.decodeImage as DecodeFn);
  return decoder.then((decode) => decode(input));
}
