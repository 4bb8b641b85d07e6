/**
 * The model names a user types, and where clip-bench finds each: a public ONNX export on the hub in the
 * transformers.js layout, or (no public export) the exporter command that makes one. One entry per model; the
 * paper's name, the Hugging Face id of the original weights and open_clip's name:pretrained all lead to it.
 */
import { UserError } from '../errors.js';

export interface KnownModel {
  /** the paper's name (a row of Tables 10 and 11) */
  paper: string;
  /** the original weights' Hugging Face id (transformers; no ONNX files there) */
  hf: string;
  /** open_clip's model name and pretrained tag */
  openClip: string;
  /** the public ONNX export (transformers.js layout) that is downloaded */
  onnx: string;
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  { paper: 'ViT-B/32', hf: 'openai/clip-vit-base-patch32', openClip: 'ViT-B-32:openai', onnx: 'Xenova/clip-vit-base-patch32' },
  { paper: 'ViT-B/16', hf: 'openai/clip-vit-base-patch16', openClip: 'ViT-B-16:openai', onnx: 'Xenova/clip-vit-base-patch16' },
  { paper: 'ViT-L/14', hf: 'openai/clip-vit-large-patch14', openClip: 'ViT-L-14:openai', onnx: 'Xenova/clip-vit-large-patch14' },
  { paper: 'ViT-L/14@336px', hf: 'openai/clip-vit-large-patch14-336', openClip: 'ViT-L-14-336:openai', onnx: 'Xenova/clip-vit-large-patch14-336' },
];

/** Every name that maps to a public export -> that export's hub id. */
export const MODEL_ALIASES: Record<string, string> = Object.fromEntries(
  KNOWN_MODELS.flatMap((m) => [[m.paper, m.onnx], [m.hf, m.onnx], [m.openClip, m.onnx]]),
);

/** The paper's name of a known model (by any of its names or its export's id), or null. */
export function paperNameOf(spec: string): string | null {
  return KNOWN_MODELS.find((m) => [m.paper, m.hf, m.openClip, m.onnx].includes(spec))?.paper ?? null;
}

const KNOWN_NAMES = () => KNOWN_MODELS.flatMap((m) => [m.paper, m.openClip]).join(', ');

/**
 * A model name shaped like the paper's (ViT-H/14, RN50x4) or open_clip's (ViT-B-32, ViT-B-32:laion2b_s34b_b79k,
 * convnext_base_w:laion2b_s13b_b82k) that has no public ONNX export known here: the error names the exporter
 * command that makes one (`hint`: a did-you-mean after the name). Null: not such a name (a hub id or a path).
 */
export function unexportedModelError(spec: string, hint = ''): UserError | null {
  const known = `known: ${KNOWN_NAMES()}`;
  if (/^(ViT-[A-Za-z]+\/\d+|RN\d+(x\d+)?)(@\d+px)?$/.test(spec)) {
    const out = `models/${spec.replace(/[/@]/g, '-')}`;
    return new UserError(`--model ${spec}: unknown model alias${hint}, and no public ONNX export of this CLIP model is known (${known}); make one with \`python3 scripts/export_model.py --openai-clip ${spec} --out ${out}\`, then --model ${out}`);
  }
  const m = /^((?:ViT|RN|convnext|EVA|coca|MobileCLIP|ViTamin|xlm|roberta|nllb)[\w.-]*)(?::([\w.-]+))?$/i.exec(spec);
  if (!m) return null;
  const [, name, tag] = m;
  const out = `models/${name}${tag ? `-${tag}` : ''}`;
  const what = tag ? `open_clip's ${name} with ${tag} weights has no public ONNX export known here` : `open_clip's ${name} needs its weights named (${name}:PRETRAINED)`;
  return new UserError(`--model ${spec}: ${what}${hint} (${known}); make one with \`python3 scripts/export_model.py --open-clip ${name} --pretrained ${tag ?? 'PRETRAINED'} --out ${out}\`, then --model ${out}`);
}
