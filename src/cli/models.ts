import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { hubOptionsFromEnv } from '../hub/hub.js';
import { BUILTIN_MODEL, builtinModelDir } from '../model/resolve.js';
import { KNOWN_MODELS } from '../model/known-models.js';

export function register(program: Command): void {
  program
    .command('models')
    .description('list the built-in model, the known models (paper, Hugging Face and open_clip names) and their ONNX exports, and the models in the Hugging Face cache')
    .action(() => {
      const hub = hubOptionsFromEnv();
      const out: string[] = [];
      out.push('built in:');
      out.push(`  ${BUILTIN_MODEL.padEnd(16)} ${builtinModelDir()}`);
      out.push('known models (by any of their three names; their public ONNX export is downloaded on first use):');
      // two lines a model, to fit 100 columns: its names, then the export it runs
      out.push(`  ${'paper'.padEnd(16)} ${'Hugging Face (weights)'.padEnd(36)} open_clip`);
      for (const m of KNOWN_MODELS) out.push(`  ${m.paper.padEnd(16)} ${m.hf.padEnd(36)} ${m.openClip}`, `  ${''.padEnd(16)} runs ${m.onnx}`);
      out.push('any other open_clip, OpenAI clip or transformers CLIP/SigLIP model: export it, then --model DIR:');
      out.push('  python3 scripts/export_model.py --open-clip ViT-B-32 --pretrained laion2b_s34b_b79k \\', '    --out models/vit-b-32-laion2b');
      out.push(`cached (${hub.cacheDir}):`);
      const cached = existsSync(hub.cacheDir) ? readdirSync(hub.cacheDir).filter((d) => d.startsWith('models--')).sort() : [];
      if (cached.length === 0) out.push('  (none)');
      for (const d of cached) {
        const id = d.slice('models--'.length).replace('--', '/');
        const snapDir = path.join(hub.cacheDir, d, 'snapshots');
        const snaps = existsSync(snapDir) ? readdirSync(snapDir) : [];
        for (const s of snaps) {
          const onnxDir = path.join(snapDir, s, 'onnx');
          const onnx = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')).sort() : [];
          // optimum's combined layout keeps model.onnx at the top
          onnx.push(...readdirSync(path.join(snapDir, s)).filter((f) => f.endsWith('.onnx')).sort());
          out.push(`  ${id.padEnd(40)} ${s.slice(0, 12)}  ${onnx.join(' ') || '(no onnx files)'}`);
        }
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
