import { Option, type Command } from 'commander';
import { decodeImage } from '../image/decode.js';
import { preprocess } from '../model/preprocess.js';
import { preprocessConfigForSize } from '../model/preprocess-config.js';
import { readModelDir } from '../model/model-dir.js';
import { resolveModelDir } from '../model/resolve.js';
import { DEFAULTS } from '../defaults.js';
import { positiveInt } from './model-options.js';
import { atomicWriteFileSync, checkOutputFile } from '../util/fs.js';

export function register(program: Command): void {
  program
    .command('preprocess')
    .description("write IMAGE's preprocessed tensor (raw little-endian float32 [3,N,N]) as the model would see it")
    .argument('<image>', 'image file (JPEG, PNG, WebP, ...)')
    .requiredOption('--out <file>', 'where to write the float32 tensor')
    .option('--model <model>', "use this model's preprocessor_config.json", DEFAULTS.model)
    .addOption(new Option('--size <n>', "OpenAI CLIP's transform at N pixels instead of the model's config").argParser(positiveInt('--size')))
    .action(async (image: string, f: { out: string; model: string; size?: number }) => {
      checkOutputFile('--out', f.out);
      const cfg = f.size ? preprocessConfigForSize(f.size) : readModelDir(await resolveModelDir(f.model, { dtype: DEFAULTS.dtype }), DEFAULTS.dtype).preprocess;
      const tensor = preprocess(await decodeImage(image), cfg);
      const n = Math.round(Math.sqrt(tensor.length / 3));
      atomicWriteFileSync(f.out, new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength));
      let sum = 0;
      for (const v of tensor) sum += v;
      const mean = sum / tensor.length;
      let sq = 0;
      for (const v of tensor) sq += (v - mean) ** 2;
      const std = Math.sqrt(sq / tensor.length);
      process.stdout.write(`shape [3, ${n}, ${n}]  mean ${mean.toFixed(6)}  std ${std.toFixed(6)}  -> ${f.out}\n`);
    });
}
