/** A decoded image: interleaved (HWC) 8-bit samples, as the file stores them (no colour conversion yet). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 = L (grey), 2 = LA, 3 = RGB, 4 = RGBA */
  channels: 1 | 2 | 3 | 4;
  /** true for palette images: PIL resizes those with NEAREST */
  palette?: boolean;
  /**
   * PIL modes the channel count does not tell apart. 'CMYK': 4 channels, resized as they are (not premultiplied) and
   * converted to RGB afterwards with PIL's formula. 'I': 16-bit grey that PIL holds as 32-bit integers; `data` holds
   * the samples as native-endian uint16 (2 bytes each), resized in double precision and clipped to 0..255 only by
   * convert('RGB').
   */
  mode?: 'CMYK' | 'I';
}
