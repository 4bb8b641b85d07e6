import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every subcommand, in the order `--help` lists them. Each is loaded on demand: a run imports only the command it
 * runs (onnxruntime, sharp and the plotting libraries cost tenths of a second to load).
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  zeroshot: () => import('./zeroshot.js'),
  'linear-probe': () => import('./linear-probe.js'),
  fewshot: () => import('./fewshot.js'),
  suite: () => import('./suite.js'),
  embed: () => import('./embed.js'),
  report: () => import('./report.js'),
  regress: () => import('./regress.js'),
  compare: () => import('./compare.js'),
  models: () => import('./models.js'),
  datasets: () => import('./datasets.js'),
  cache: () => import('./cache.js'),
  tokenize: () => import('./tokenize.js'),
  preprocess: () => import('./preprocess.js'),
};

/** Register the command named in argv, or all of them (for help and for unknown names). */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const wanted = named && named in COMMANDS && !argv.includes('--help') && !argv.includes('-h') ? [named] : Object.keys(COMMANDS);
  for (const name of wanted) (await COMMANDS[name]()).register(program);
}
