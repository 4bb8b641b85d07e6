/**
 * Which row of the paper's Tables 10 and 11 a model of the results stands for: its own name (ViT-B/32), a known
 * model's other names (openai/clip-vit-base-patch32, ViT-B-32:openai, its ONNX export's id), or what
 * `--paper-model my-clip=ViT-B/32` says (a fine-tuned or renamed model compared with its base's published numbers).
 */
import { UserError } from '../errors.js';
import { paperNameOf } from '../model/known-models.js';
import type { PaperTables } from '../paper/paper.js';

/** Parse `--paper-model MODEL=PAPER[,MODEL=PAPER]`; PAPER must be a row of Table 10 or 11. */
export function parsePaperModels(value: string | undefined, paper: PaperTables): Map<string, string> {
  const out = new Map<string, string>();
  if (!value) return out;
  const rows = new Set([...Object.keys(paper.table10_linear_probe.models), ...Object.keys(paper.table11_zero_shot.models)]);
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.lastIndexOf('=');
    const [model, row] = at > 0 ? [item.slice(0, at), item.slice(at + 1)] : ['', item];
    if (!model) throw new UserError(`--paper-model ${item}: expected MODEL=PAPER_ROW, e.g. my-clip=ViT-B/32`);
    if (!rows.has(row)) throw new UserError(`--paper-model ${item}: '${row}' is not a row of the paper's Tables 10/11 (${[...rows].sort().join(', ')})`);
    out.set(model, row);
  }
  return out;
}

/** The paper row each model stands for, where it is not its own name. */
export function paperRowsOf(models: readonly string[], explicit: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of models) {
    const row = explicit.get(m) ?? paperNameOf(m);
    if (row && row !== m) out.set(m, row);
  }
  return out;
}

/** The paper's tables with each such model's paper row also under the model's own name (what the comparisons look up). */
export function paperTablesFor(paper: PaperTables, rowsOf: ReadonlyMap<string, string>): PaperTables {
  if (rowsOf.size === 0) return paper;
  const alias = (models: Record<string, Record<string, number>>) => {
    const out = { ...models };
    for (const [model, row] of rowsOf) if (models[row]) out[model] = models[row]!;
    return out;
  };
  return {
    ...paper,
    table10_linear_probe: { ...paper.table10_linear_probe, models: alias(paper.table10_linear_probe.models) },
    table11_zero_shot: { ...paper.table11_zero_shot, models: alias(paper.table11_zero_shot.models) },
  };
}
