import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { SessionOptions } from './onnx-session.js';
import type { TowerSource } from './towers.js';
import type { VisionInit, VisionReply, VisionWorkerData } from './vision-worker.js';

interface Pending {
  resolve: (r: { embeddings: Float32Array; dim: number }) => void;
  reject: (e: Error) => void;
  /** settles when the reply (or the worker's failure) has arrived */
  settled: Promise<unknown>;
}

/** The image tower, running in a worker thread; several batches may be queued at once. */
export class ImageEncoder {
  private readonly worker: Worker;
  /** resolves to the embedding width once the session is open */
  readonly ready: Promise<number>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(source: TowerSource, options: SessionOptions, size: number) {
    const data: VisionWorkerData = { file: source.file, bytes: source.bytes, output: source.output, options, size };
    // edited graph bytes move to the worker rather than being copied
    const transferList = source.bytes ? [source.bytes.buffer as ArrayBuffer] : [];
    this.worker = new Worker(new URL('./vision-worker.js', import.meta.url), { workerData: data, transferList });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (m: VisionInit) => {
        if (m.ready) resolve(m.dim);
        else reject(m.userError ? new UserError(m.error) : new Error(m.error));
        this.worker.on('message', (r: VisionReply) => this.onReply(r));
      });
      this.worker.once('error', reject);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`the inference worker exited with code ${code}`)));
  }

  /** Embed n preprocessed images (float32 [n,3,S,S]); the pixel buffer is transferred to the worker. */
  async encode(pixels: Float32Array, n: number): Promise<{ embeddings: Float32Array; dim: number }> {
    await this.ready;
    const id = this.nextId++;
    let entry!: Pending;
    const result = new Promise<{ embeddings: Float32Array; dim: number }>((resolve, reject) => {
      entry = { resolve, reject, settled: Promise.resolve() };
    });
    entry.settled = result.then(
      () => {},
      () => {},
    );
    this.pending.set(id, entry);
    this.worker.postMessage({ id, pixels, n }, [pixels.buffer as ArrayBuffer]);
    return result;
  }

  /**
   * Waits for the batches still running in the worker, then stops it. Terminating a worker while onnxruntime
   * runs a batch in it aborts the whole process natively (`terminate called after throwing ... Napi::Error`),
   * which is what a run failing on a bad image in a later batch used to do.
   */
  async close(): Promise<void> {
    await this.ready.catch(() => {});
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()].map((p) => p.settled));
    await this.worker.terminate();
  }

  private onReply(r: VisionReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if ('error' in r) p.reject(r.userError ? new UserError(r.error) : new Error(r.error));
    else p.resolve({ embeddings: r.embeddings, dim: r.dim });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
