import type { Command } from 'commander';
import { ClipTokenizer } from '../model/tokenizer.js';
import { resolveModelDir } from '../model/resolve.js';
import { DEFAULTS } from '../defaults.js';

export function register(program: Command): void {
  program
    .command('tokenize')
    .description("print the token id rows of TEXT as JSON (77 ids each, as clip.tokenize would)")
    .argument('<text...>', 'texts to tokenize')
    .option('--model <model>', "model whose tokenizer to use ('mini', a directory, a hub id or alias)", DEFAULTS.model)
    .option('--dtype <dtype>', 'ONNX variant (only used to locate the model)', DEFAULTS.dtype)
    .action(async (texts: string[], f: { model: string; dtype: string }) => {
      const dir = await resolveModelDir(f.model, { dtype: f.dtype });
      const tokenizer = ClipTokenizer.fromModelDir(dir);
      const { ids, contextLength } = tokenizer.tokenize(texts);
      const rows = texts.map((_, i) => Array.from(ids.subarray(i * contextLength, (i + 1) * contextLength), Number));
      process.stdout.write(`[\n${rows.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n]\n`);
    });
}
