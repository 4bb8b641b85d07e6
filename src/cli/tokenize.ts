import type { Command } from 'commander';
import { TOKENIZER_FILES } from '../model/tokenizer.js';
import { textTokenizerFor } from '../model/text-tokenizer.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { resolveModelDir } from '../model/resolve.js';
import { DEFAULTS } from '../defaults.js';

/** One row of ids as a JSON array indented by 2, its numbers wrapped to lines of at most `width` characters (still JSON). */
function wrappedRow(ids: number[], width: number): string {
  const lines: string[] = [];
  let line = '  [';
  ids.forEach((id, i) => {
    const item = `${id}${i < ids.length - 1 ? ',' : ']'}`;
    if (line.length + 1 + item.length > width) {
      lines.push(line.trimEnd());
      line = '   ';
    }
    line += line.endsWith('[') ? item : ` ${item}`;
  });
  lines.push(line);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('tokenize')
    .description("print the token id rows of TEXT as JSON (as the model's reference tokenizes: clip.tokenize's 77 ids for CLIP BPE, the fixed padded length for SigLIP)")
    .argument('<text...>', 'texts to tokenize')
    .option('--model <model>', "model whose tokenizer to use ('mini', a directory, a hub id or alias)", DEFAULTS.model)
    .option('--dtype <dtype>', 'ONNX variant (only used to locate the model)', DEFAULTS.dtype)
    .action(async (texts: string[], f: { model: string; dtype: string }) => {
      const dir = await resolveModelDir(f.model, { dtype: f.dtype });
      const file = TOKENIZER_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
      if (!file) throw new UserError(`${dir}: no ${TOKENIZER_FILES.join(' or ')}`);
      const { ids, contextLength } = textTokenizerFor(dir, file).tokenize(texts);
      const rows = texts.map((_, i) => Array.from(ids.subarray(i * contextLength, (i + 1) * contextLength), Number));
      process.stdout.write(`[\n${rows.map((r) => wrappedRow(r, 100)).join(',\n')}\n]\n`);
    });
}
