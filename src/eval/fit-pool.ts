import { Worker } from 'node:worker_threads';
import { logRegBackendFor, type LogRegModel } from './logreg.js';

/** One fit for a pool worker: features X [n, dim], labels y [n], C, and optionally the model to start from. */
export interface FitRequest {
  id: number;
  X: Float32Array;
  y: Int32Array;
  n: number;
  dim: number;
  nClasses: number;
  C: number;
  maxIter: number;
  warmStart?: { W: Float32Array; b: Float32Array };
}
export type FitReply = { id: number; model: LogRegModel } | { id: number; error: string };

interface Slot {
  worker: Worker;
  busy: number;
}

/**
 * Worker threads that fit small logistic regressions (the single-threaded float64 kernels, n·dim·classes <= 4e6)
 * side by side. A fit is a pure function of its inputs, so the models are the same bits whichever worker fits
 * them and in whatever order; callers keep their own order for everything that follows (choices, rows).
 * Larger problems stay on the calling thread, where onnxruntime's GEMMs use every core.
 */
export class FitPool {
  private readonly pending = new Map<number, { resolve: (m: LogRegModel) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private failed: Error | null = null;

  private slots: Slot[] = [];

  constructor(readonly size: number) {}

  /** The workers start on the first fit (a run whose fits are all large never starts them). */
  private started(): Slot[] {
    if (this.slots.length === 0) {
      this.slots = Array.from({ length: this.size }, () => {
        const worker = new Worker(new URL('./fit-worker.js', import.meta.url));
        const slot: Slot = { worker, busy: 0 };
        worker.on('message', (r: FitReply) => this.onReply(r));
        worker.on('error', (e) => this.failAll(e));
        worker.on('exit', (code) => {
          if (this.pending.size > 0) this.failAll(new Error(`fit worker exited with code ${code}`));
        });
        // an idle pool does not keep the process alive
        worker.unref();
        return slot;
      });
    }
    return this.slots;
  }

  /** Whether a fit of this shape goes to the pool (else it belongs on the calling thread). */
  takes(n: number, dim: number, nClasses: number): boolean {
    return logRegBackendFor(n, dim, nClasses) === 'js';
  }

  /** Fit on the least busy worker. The features are copied, never taken. */
  fit(X: Float32Array, y: Int32Array, n: number, dim: number, nClasses: number, C: number, maxIter: number, warmStart?: LogRegModel): Promise<LogRegModel> {
    if (this.failed) return Promise.reject(this.failed);
    const slot = this.started().reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    if (slot.busy === 1) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      const req: FitRequest = {
        id,
        X: X.slice(0, n * dim),
        y: y.slice(0, n),
        n,
        dim,
        nClasses,
        C,
        maxIter,
        warmStart: warmStart && { W: warmStart.W, b: warmStart.b },
      };
      slot.worker.postMessage(req, [req.X.buffer as ArrayBuffer, req.y.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private onReply(r: FitReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (--p.slot.busy === 0) p.slot.worker.unref();
    if ('error' in r) p.reject(new Error(r.error));
    else p.resolve(r.model);
  }

  private failAll(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** A pool of `threads` workers, or none for one thread (everything then runs on the calling thread, in order). */
export function fitPoolFor(threads: number | undefined): FitPool | null {
  const n = Math.max(1, Math.floor(threads ?? 1));
  return n > 1 ? new FitPool(n) : null;
}

/** Run `fn` on each item with at most `width` running at once; results in the items' order. */
export async function mapWindow<T, R>(items: T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
  return out;
}
