import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { hubOptionsFromEnv } from '../hub/hub.js';
import { BUILTIN_MODEL, builtinModelDir, MODEL_ALIASES } from '../model/resolve.js';

export function register(program: Command): void {
  program
    .command('models')
    .description('list the built-in model, the paper-name aliases, and the models in the Hugging Face cache')
    .action(() => {
      const hub = hubOptionsFromEnv();
      const out: string[] = [];
      out.push('built in:');
      out.push(`  ${BUILTIN_MODEL.padEnd(16)} ${builtinModelDir()}`);
      out.push('aliases (downloaded on first use):');
      for (const [alias, id] of Object.entries(MODEL_ALIASES)) out.push(`  ${alias.padEnd(16)} ${id}`);
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
          out.push(`  ${id.padEnd(40)} ${s.slice(0, 12)}  ${onnx.join(' ') || '(no onnx files)'}`);
        }
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
