// Worker thread that preprocesses decoded images (CPU-bound JS: PIL-exact resize, crop, normalise) into one
// float32 batch, so that the main thread only decodes (sharp works off-thread) and feeds the pipeline.
import { parentPort } from 'node:worker_threads';
import { preprocess } from '../model/preprocess.js';
import type { PreprocessConfig } from '../model/types.js';
import type { RawImage } from '../image/types.js';

export interface PreprocessRequest {
  id: number;
  /** JSON of the config: the worker keeps one object per distinct config (preprocess caches its LUT per object) */
  cfgKey: string;
  pixelsPerImage: number;
  /** null: an unreadable image (its slot stays zero; the caller turns its row into NaN) */
  images: (RawImage | null)[];
}
export type PreprocessReply = { id: number; pixels: Float32Array } | { id: number; error: string };

const port = parentPort!;
const configs = new Map<string, PreprocessConfig>();

port.on('message', (req: PreprocessRequest) => {
  try {
    let cfg = configs.get(req.cfgKey);
    if (!cfg) configs.set(req.cfgKey, (cfg = JSON.parse(req.cfgKey) as PreprocessConfig));
    const pixels = new Float32Array(req.images.length * req.pixelsPerImage);
    for (let b = 0; b < req.images.length; b++) {
      const img = req.images[b];
      if (img) preprocess(img, cfg, pixels, b * req.pixelsPerImage);
    }
    port.postMessage({ id: req.id, pixels } satisfies PreprocessReply, [pixels.buffer]);
  } catch (e) {
    port.postMessage({ id: req.id, error: (e as Error)?.message ?? String(e) } satisfies PreprocessReply);
  }
});
