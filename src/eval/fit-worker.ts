// Worker thread of the fit pool (fit-pool.ts): fits one small logistic regression per message with the
// single-threaded float64 kernels, so that its bits are the same as a fit on the main thread.
import { parentPort } from 'node:worker_threads';
import { fitLogReg } from './logreg.js';
import type { FitReply, FitRequest } from './fit-pool.js';

const port = parentPort!;

port.on('message', async (req: FitRequest) => {
  try {
    const { X, y, n, dim, nClasses, C, maxIter, warmStart } = req;
    const ws = warmStart && { ...warmStart, nClasses, dim, iterations: 0, converged: true };
    const m = await fitLogReg(X, y, n, dim, nClasses, { C, maxIter, backend: 'js', warmStart: ws });
    const reply: FitReply = { id: req.id, model: m };
    port.postMessage(reply, [m.W.buffer as ArrayBuffer, m.b.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: req.id, error: (e as Error)?.message ?? String(e) } satisfies FitReply);
  }
});
