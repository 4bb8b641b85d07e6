import { createHash } from 'node:crypto';
import os from 'node:os';
import ort from 'onnxruntime-node';
import { UserError } from '../errors.js';
import { fileSha256 } from './file-hash.js';
import { ImageEncoder } from './image-encoder.js';
import type { ModelFiles } from './model-dir.js';
import { modelInputSize } from './preprocess-config.js';
import { createSession, embeddingsOf, pickOutput, type SessionOptions } from './onnx-session.js';
import { textTokenizerFor, type TextTokenizer } from './text-tokenizer.js';
import type { ClipModel, PreprocessConfig } from './types.js';
import { combinedTowers, splitVisionTower, TEXT_OUTPUTS, type ImageFeatures, type TowerSource } from './towers.js';
import { DEFAULTS } from '../defaults.js';
import type { Device, ExecutionProvider } from './device.js';

const TEXT_BATCH = DEFAULTS.textBatch;

/**
 * A CLIP model over ONNX files. Sessions open lazily: a run whose embeddings are all cached loads no session.
 * Image inference runs in a worker thread (see image-encoder.ts); text inference on the calling thread.
 */
export class OnnxClipModel implements ClipModel {
  readonly preprocess: PreprocessConfig;
  readonly dtype: string;
  readonly provider: ExecutionProvider;
  readonly inferenceCores: number;
  private imageEncoder: ImageEncoder | null = null;
  private textSession: Promise<ort.InferenceSession> | null = null;
  private tokenizer: TextTokenizer | null = null;

  private towerSources: { vision: TowerSource; text: TowerSource | null } | null = null;

  private constructor(
    readonly name: string,
    readonly identity: string,
    readonly files: ModelFiles,
    private readonly options: SessionOptions,
    readonly features: ImageFeatures,
    private readonly imageOnly: boolean,
    /** the image tower file's sha256 (12 hex), whatever runs it: part of a result row's identity */
    readonly filesDigest: string,
  ) {
    this.preprocess = files.preprocess;
    this.dtype = files.dtype;
    this.provider = options.device.ep;
    // on an accelerator one thread feeds the device: every other core can preprocess
    this.inferenceCores = options.device.ep === 'cpu' ? options.threads || os.availableParallelism() : 1;
  }

  static async load(name: string, files: ModelFiles, options: SessionOptions & { features?: ImageFeatures; imageOnly?: boolean }): Promise<OnnxClipModel> {
    const features = options.features ?? 'embedding';
    const parts = {
      vision: await fileSha256(files.visionOnnx),
      text: files.textOnnx ? await fileSha256(files.textOnnx) : null,
      tokenizer: files.tokenizerFile ? await fileSha256(files.tokenizerFile) : null,
      dtype: files.dtype,
      // the execution provider class: CPU and GPU kernels can differ in the last bits (the CPU's hash is unchanged)
      provider: options.device.ep,
      // other features are other numbers; the embedding keeps the identity (and cache) it always had
      ...(features === 'embedding' ? {} : { features }),
    };
    const identity = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
    // the image tower's file: the same whether the text tower is opened (zero-shot) or not (the probes)
    const filesDigest = parts.vision.slice(0, 12);
    return new OnnxClipModel(name, identity, files, options, features, options.imageOnly ?? false, filesDigest);
  }

  /** The execution provider and GPU the towers run on. */
  get device(): Device {
    return this.options.device;
  }

  /** The towers' sources, worked out once (a combined graph or pre-projection features need the graph read). */
  private towers(): { vision: TowerSource; text: TowerSource | null } {
    if (!this.towerSources) {
      const f = this.files;
      if (f.layout === 'combined') {
        this.towerSources = combinedTowers(f.visionOnnx, this.features, this.imageOnly || !f.tokenizerFile);
      } else {
        const text = f.textOnnx ? { file: f.textOnnx, bytes: null, output: null } : null;
        this.towerSources = { vision: splitVisionTower(f.visionOnnx, this.features), text };
      }
    }
    return this.towerSources;
  }

  /** Open the image tower (in its worker) and return the image embedding (or feature) width. */
  async imageDim(): Promise<number> {
    this.imageEncoder ??= new ImageEncoder(this.towers().vision, this.options, modelInputSize(this.preprocess));
    return this.imageEncoder.ready;
  }

  /** pixels must own its buffer: it is transferred to the worker thread. */
  async encodeImages(pixels: Float32Array, n: number): Promise<Float32Array> {
    await this.imageDim();
    return (await this.imageEncoder!.encode(pixels, n)).embeddings;
  }

  /** `onBatch(done)`: after each batch, how many of the texts are encoded (for progress on 80,000 prompts) */
  async encodeTexts(texts: string[], onBatch?: (done: number) => void): Promise<{ embeddings: Float32Array; dim: number }> {
    if (!this.files.textOnnx || !this.files.tokenizerFile) {
      throw new UserError(`model ${this.name} has no text tower (${this.files.dir}): it can only be used for linear probes`);
    }
    const textOnnx = this.files.textOnnx;
    const source = this.towers().text;
    if (!source) throw new UserError(`model ${this.name} was opened for its image tower only`);
    this.textSession ??= createSession(textOnnx, this.options, source.bytes ?? undefined);
    this.tokenizer ??= textTokenizerFor(this.files.dir, this.files.tokenizerFile);
    const session = await this.textSession;
    const outputName = source.output ?? pickOutput(session, TEXT_OUTPUTS);
    const chunks: Float32Array[] = [];
    let dim = 0;
    for (let start = 0; start < texts.length; start += TEXT_BATCH) {
      const batch = texts.slice(start, start + TEXT_BATCH);
      const tok = this.tokenizer.tokenize(batch);
      const shape = [tok.n, tok.contextLength];
      const feeds: Record<string, ort.Tensor> = {};
      // feed only what the graph declares: some exports take input_ids alone, others attention_mask too
      for (const input of session.inputNames) {
        if (input === 'input_ids') feeds[input] = new ort.Tensor('int64', tok.ids, shape);
        else if (input === 'attention_mask') feeds[input] = new ort.Tensor('int64', tok.attentionMask, shape);
        else throw new UserError(`${textOnnx}: unsupported text model input '${input}' (expected input_ids, attention_mask)`);
      }
      const out = await session.run(feeds, [outputName]);
      const emb = embeddingsOf(out[outputName], tok.n, `${textOnnx} output ${outputName}`);
      dim = emb.dim;
      chunks.push(new Float32Array(emb.data));
      onBatch?.(start + batch.length);
    }
    const all = new Float32Array(texts.length * dim);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    return { embeddings: all, dim };
  }

  async close(): Promise<void> {
    await this.imageEncoder?.close();
    this.imageEncoder = null;
    // edited graph bytes were handed to the worker: a reopened tower works them out again
    this.towerSources = null;
    if (this.textSession) await (await this.textSession).release();
    this.textSession = null;
  }
}
