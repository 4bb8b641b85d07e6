// Worker thread that owns the image tower's ONNX session: onnxruntime-node's run() blocks the thread it is
// called on, so inference runs here while the main thread keeps decoding and preprocessing the next batches.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { UserError } from '../errors.js';
import { createSession, embeddingsOf, pickOutput, type SessionOptions } from './onnx-session.js';
import { IMAGE_OUTPUTS } from './towers.js';

export interface VisionWorkerData {
  file: string;
  /** the file's graph edited in memory (towers.ts), or null to load the file */
  bytes: Uint8Array | null;
  /** the output to read, or null to choose it by name */
  output: string | null;
  options: SessionOptions;
  /** side length of the square input */
  size: number;
}
export type VisionRequest = { id: number; pixels: Float32Array; n: number };
export type VisionReply =
  | { id: number; embeddings: Float32Array; dim: number }
  | { id: number; error: string; userError: boolean };
export type VisionInit = { ready: true; dim: number } | { ready: false; error: string; userError: boolean };

const { file, bytes, output, options, size } = workerData as VisionWorkerData;
const port = parentPort!;

function describe(e: unknown): { error: string; userError: boolean } {
  return { error: (e as Error)?.message ?? String(e), userError: e instanceof UserError };
}

/**
 * The input must be float32 [n, 3, size, size]: a text tower (int64 token ids) or another input size would
 * otherwise fail inside onnxruntime with a message that names neither the file nor the flag.
 */
function checkImageInput(session: ort.InferenceSession, inputName: string): void {
  const meta = session.inputMetadata.find((m) => m.name === inputName);
  if (!meta || !meta.isTensor) return;
  const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : '?'));
  const got = `${meta.type} [${shape.join(', ')}]`;
  if (meta.type !== 'float32' || shape.length !== 4 || (shape[1] !== '?' && shape[1] !== 3)) {
    throw new UserError(`${file} is not an image model: its input '${inputName}' is ${got}, expected float32 [n, 3, H, W] pixels (a text tower?)`);
  }
  const [h, w] = [shape[2], shape[3]];
  if ((h !== '?' && h !== size) || (w !== '?' && w !== size)) {
    throw new UserError(
      `${file} takes ${h}x${w} images but its preprocessing makes ${size}x${size} (for a single .onnx model pass --image-size ${h}; else check crop_size in preprocessor_config.json)`,
    );
  }
}

try {
  const session = await createSession(file, options, bytes ?? undefined);
  const inputName = session.inputNames.includes('pixel_values') ? 'pixel_values' : session.inputNames[0];
  const outputName = output ?? pickOutput(session, IMAGE_OUTPUTS);
  checkImageInput(session, inputName);
  port.postMessage({ ready: true, dim: await outputDim() } satisfies VisionInit);
  /** The embedding width: from the graph's declared output shape, else by embedding one blank image. */
  async function outputDim(): Promise<number> {
    const meta = session.outputMetadata.find((m) => m.name === outputName);
    const declared = meta && meta.isTensor ? meta.shape[1] : undefined;
    if (typeof declared === 'number' && declared > 0) return declared;
    const probe = new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]);
    const out = await session.run({ [inputName]: probe }, [outputName]);
    return embeddingsOf(out[outputName], 1, `${file} output ${outputName}`).dim;
  }
  port.on('message', async (req: VisionRequest) => {
    try {
      const input = new ort.Tensor('float32', req.pixels, [req.n, 3, size, size]);
      const out = await session.run({ [inputName]: input }, [outputName]);
      const { data, dim } = embeddingsOf(out[outputName], req.n, `${file} output ${outputName}`);
      // copy out of onnxruntime's buffer so it can be transferred
      const embeddings = new Float32Array(data);
      port.postMessage({ id: req.id, embeddings, dim } satisfies VisionReply, [embeddings.buffer]);
    } catch (e) {
      port.postMessage({ id: req.id, ...describe(e) } satisfies VisionReply);
    }
  });
} catch (e) {
  port.postMessage({ ready: false, ...describe(e) } satisfies VisionInit);
}
