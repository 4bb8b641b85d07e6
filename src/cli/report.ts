import path from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../report/report.js';
import { checkOutputDir } from '../util/fs.js';
import { wrapLines } from '../util/text-table.js';

export function register(program: Command): void {
  program
    .command('report')
    .description("compare results with each other and with the paper: report.md opening with a summary, one CSV and LaTeX table per comparison, figures as SVG, PNG and PDF")
    .option('--results <dir>', 'results directory holding zeroshot/linear_probe/fewshot .json', 'results')
    .option('--out <dir>', 'report directory (default: <results>/report)')
    .option('--baseline-model <name>', "compare every model's zero-shot with this model's linear probe (default: each model's own)")
    .option('--models-table <file>', 'CSV with columns model,gflops (image GFLOPs per image) for the scaling plot')
    .option('--paper-model <model=row,...>', "compare a renamed or fine-tuned model with a row of the paper's Tables 10 and 11, e.g. my-clip=ViT-B/32 (known models' other names need none)")
    .action(async (f: { results: string; out?: string; baselineModel?: string; modelsTable?: string; paperModel?: string }) => {
      const outDir = f.out ?? path.join(f.results, 'report');
      if (f.out) checkOutputDir('--out', f.out);
      const res = await buildReport({
        resultsDir: f.results,
        outDir,
        baselineModel: f.baselineModel,
        modelsTable: f.modelsTable,
        paperModels: f.paperModel,
        log: (m) => process.stderr.write(`${m}\n`),
      });
      for (const s of res.skipped) process.stderr.write(`${wrapLines(`report: skipped ${s}`, 100).join('\n  ')}\n`);
      process.stdout.write(`${res.files.map((x) => path.join(res.outDir, x)).join('\n')}\n`);
    });
}
