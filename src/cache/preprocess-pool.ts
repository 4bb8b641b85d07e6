import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { preprocessWorkersOverride } from '../defaults.js';
import type { PreprocessConfig } from '../model/types.js';
import type { RawImage } from '../image/types.js';
import type { PreprocessReply, PreprocessRequest } from './preprocess-worker.js';

/**
 * Preprocessing workers for the embedding pipeline: one per core that inference leaves free (the cores minus
 * onnxruntime's intra-op threads), none when it leaves none. Then the main thread preprocesses between
 * decodes (sharp decodes on libuv's threads) and a worker would only add a hand-over. CLIP_BENCH_PREPROCESS_WORKERS
 * overrides (0: main thread).
 */
export function defaultPreprocessWorkers(inferenceCores: number, cores = os.availableParallelism()): number {
  const override = preprocessWorkersOverride();
  if (override !== undefined) return override;
  return Math.max(0, cores - inferenceCores);
}

interface Slot {
  worker: Worker;
  busy: number;
}

/** A few worker threads that turn decoded images into float32 batches; each batch goes to the least busy worker. */
export class PreprocessPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, { resolve: (p: Float32Array) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private failed: Error | null = null;

  constructor(size: number) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => {
      const worker = new Worker(new URL('./preprocess-worker.js', import.meta.url));
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (r: PreprocessReply) => this.onReply(r));
      worker.on('error', (e) => this.failAll(e));
      worker.on('exit', (code) => {
        if (this.pending.size > 0) this.failAll(new Error(`preprocessing worker exited with code ${code}`));
      });
      return slot;
    });
  }

  /** Preprocess `images` (null: left zero) into a fresh [n, 3, S, S] buffer that the caller owns. */
  run(images: (RawImage | null)[], cfg: PreprocessConfig, pixelsPerImage: number): Promise<Float32Array> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      // the image bytes are copied, never taken: a source may hand out views of a buffer it keeps. A view is
      // sliced first (cloning a view would copy its whole buffer) and the slice transferred.
      const transfer: ArrayBuffer[] = [];
      const sent = images.map((img): RawImage | null => {
        if (!img || (img.data.byteOffset === 0 && img.data.byteLength === img.data.buffer.byteLength)) return img;
        const data = img.data.slice();
        transfer.push(data.buffer);
        return { ...img, data };
      });
      const req: PreprocessRequest = { id, cfgKey: JSON.stringify(cfg), pixelsPerImage, images: sent };
      slot.worker.postMessage(req, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private onReply(r: PreprocessReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    p.slot.busy--;
    if ('error' in r) p.reject(new Error(r.error));
    else p.resolve(r.pixels);
  }

  private failAll(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
