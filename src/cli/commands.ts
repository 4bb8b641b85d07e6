import type { Command } from 'commander';
import { register as cache } from './cache.js';
import { register as datasets } from './datasets.js';
import { register as embed } from './embed.js';
import { register as fewshot } from './fewshot.js';
import { register as linearProbe } from './linear-probe.js';
import { register as models } from './models.js';
import { register as preprocess } from './preprocess.js';
import { register as regress } from './regress.js';
import { register as report } from './report.js';
import { register as tokenize } from './tokenize.js';
import { register as zeroshot } from './zeroshot.js';

/** Every subcommand, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  for (const register of [zeroshot, linearProbe, fewshot, embed, report, regress, models, datasets, cache, tokenize, preprocess]) register(program);
}
