import type { Command } from 'commander';
import { register as models } from './models.js';
import { register as preprocess } from './preprocess.js';
import { register as tokenize } from './tokenize.js';

/** Every subcommand, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  for (const register of [models, tokenize, preprocess]) register(program);
}
