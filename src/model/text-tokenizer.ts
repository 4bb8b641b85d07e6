/**
 * The tokenizer of a model directory, by family. CLIP BPE (OpenAI's merges file, or a tokenizer.json holding
 * CLIP's BPE vocabulary: OpenAI CLIP, open_clip's CLIP variants, MobileCLIP) is tokenized by the bit-exact port of
 * OpenAI's tokenizer (tokenizer.ts). Any other tokenizer.json (SigLIP's SentencePiece, SigLIP 2's Gemma) is read
 * by @huggingface/tokenizers and laid out as those models' processors do: the text with the tokenizer's own
 * special tokens, truncated so that the closing special tokens stay, padded with the pad token to the fixed
 * context length (SigLIP's text tower pools a fixed position, not by attention mask: the padding is part of the
 * input).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors.js';
import { ClipTokenizer } from './tokenizer.js';

export interface TokenRows {
  ids: BigInt64Array;
  attentionMask: BigInt64Array;
  n: number;
  contextLength: number;
}

export interface TextTokenizer {
  /** 'clip-bpe' or 'tokenizer.json' (read by @huggingface/tokenizers) */
  readonly kind: string;
  readonly contextLength: number;
  tokenize(texts: string[]): TokenRows;
}

function readJsonFile(file: string): any {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Whether a tokenizer.json is CLIP's byte-level BPE (its vocabulary has CLIP's start and end tokens). */
function isClipBpe(json: any): boolean {
  return json?.model?.type === 'BPE' && typeof json.model.vocab === 'object' && '<|startoftext|>' in json.model.vocab;
}

/** The text context length: config.json's (clip_bench.context_length, text_config.max_position_embeddings), else 77. */
function contextLengthOf(dir: string): number {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return 77;
  const c = readJsonFile(file);
  const n = c?.clip_bench?.context_length ?? c?.text_config?.max_position_embeddings;
  return Number.isInteger(n) && n >= 2 ? n : 77;
}

/** A tokenizer.json of another family, through @huggingface/tokenizers. */
export class HfTextTokenizer implements TextTokenizer {
  readonly kind = 'tokenizer.json';
  private readonly tok: Tokenizer;
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly padId: number;

  constructor(json: any, config: any, readonly contextLength: number, file: string) {
    try {
      this.tok = new Tokenizer(json, config ?? {});
    } catch (e) {
      throw new UserError(`${file}: @huggingface/tokenizers cannot read it: ${(e as Error).message}`);
    }
    // the special tokens the post-processor puts around a text (SigLIP: </s> after; Gemma: <bos> before)
    const empty = this.tok.encode('', { add_special_tokens: true }).ids;
    const bare = this.tok.encode('', { add_special_tokens: false }).ids;
    if (bare.length) throw new UserError(`${file}: the empty text encodes to tokens ${JSON.stringify(bare)}`);
    const withX = this.tok.encode('x', { add_special_tokens: true }).ids;
    const x = this.tok.encode('x', { add_special_tokens: false }).ids;
    const at = withX.findIndex((_: number, i: number) => x.every((id: number, j: number) => withX[i + j] === id));
    this.prefix = at >= 0 ? withX.slice(0, at) : empty;
    this.suffix = at >= 0 ? withX.slice(at + x.length) : [];
    const padToken = typeof config?.pad_token === 'string' ? config.pad_token : config?.pad_token?.content;
    const padId = json?.padding?.pad_id ?? (padToken !== undefined ? this.tok.token_to_id(padToken) : undefined);
    if (padId === undefined) throw new UserError(`${file}: no pad token (tokenizer_config.json pad_token, or tokenizer.json padding.pad_id)`);
    this.padId = padId;
    if (this.prefix.length + this.suffix.length >= contextLength) throw new UserError(`${file}: context length ${contextLength} leaves no room for text`);
  }

  /** The ids of one text: special tokens around it, the text truncated to fit, no padding. */
  encode(text: string): number[] {
    const room = this.contextLength - this.prefix.length - this.suffix.length;
    return [...this.prefix, ...this.tok.encode(text, { add_special_tokens: false }).ids.slice(0, room), ...this.suffix];
  }

  tokenize(texts: string[]): TokenRows {
    const L = this.contextLength;
    const ids = new BigInt64Array(texts.length * L).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(texts.length * L);
    texts.forEach((text, row) => {
      this.encode(text).forEach((id, j) => {
        ids[row * L + j] = BigInt(id);
        attentionMask[row * L + j] = 1n;
      });
    });
    return { ids, attentionMask, n: texts.length, contextLength: L };
  }
}

/** OpenAI's tokenizer with the model's context length. */
class ClipBpeTokenizer implements TextTokenizer {
  readonly kind = 'clip-bpe';
  constructor(private readonly tok: ClipTokenizer, readonly contextLength: number) {}
  tokenize(texts: string[]): TokenRows {
    return this.tok.tokenize(texts, this.contextLength);
  }
}

/** The tokenizer of a model directory, given its tokenizer file (tokenizer.json or OpenAI's merges file). */
export function textTokenizerFor(dir: string, file: string): TextTokenizer {
  const contextLength = contextLengthOf(dir);
  if (!file.endsWith('.json')) return new ClipBpeTokenizer(ClipTokenizer.fromBpeFile(file), contextLength);
  const json = readJsonFile(file);
  if (isClipBpe(json)) return new ClipBpeTokenizer(ClipTokenizer.fromTokenizerJson(file), contextLength);
  const configFile = path.join(dir, 'tokenizer_config.json');
  const config = existsSync(configFile) ? readJsonFile(configFile) : {};
  return new HfTextTokenizer(json, config, contextLength, file);
}
