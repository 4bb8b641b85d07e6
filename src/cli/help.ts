/**
 * What every `--help` page shares: two or three real examples per command, defaults printed as values (0.5, not
 * "0.5"; no "(default: false)" on a switch), and the options most runs set (--model, --dataset, ...) first.
 */
import type { Command, Help, Option } from 'commander';

/** `clip-bench <command>` examples: the command line (after `clip-bench `) and what it does. */
export const EXAMPLES: Record<string, [string, string][]> = {
  zeroshot: [
    ['zeroshot', 'the built-in model on Fashion-MNIST, three prompt modes'],
    ['zeroshot --model ViT-B/32 --dataset cifar10,cifar100', "the paper's model on two datasets (downloads both)"],
    ['zeroshot --dataset imagenet --dataset-root /data/imagenet --limit 1000', 'a quick pass over 1,000 ImageNet images'],
  ],
  'linear-probe': [
    ['linear-probe', 'a logistic-regression probe on Fashion-MNIST, C chosen on held-out training images'],
    ['linear-probe --model ViT-B/32 --dataset cifar10 --threads 8', 'the paper\'s protocol on CIFAR-10'],
  ],
  fewshot: [
    ['fewshot', '1, 2, 4, 8, 16 shots, 5 draws each, on Fashion-MNIST'],
    ['fewshot --dataset eurosat --shots 1,2,4,8,16 --seeds 3', "Figure 6's curve for one dataset"],
  ],
  suite: [
    ['suite --model mini --dataset fashion-mnist', 'every evaluation and the report for one dataset'],
    ['suite --model ViT-B/32 --dataset @kornblith12 --limit 500', "a quick pass over Kornblith's 12 datasets"],
    ['suite --model ViT-B/32 --dataset @paper27 --shard auto', 'the paper\'s 27 datasets as a Slurm array task'],
  ],
  embed: [
    ['embed --dataset cifar10 --split train', 'fill the cache, print where the embeddings are'],
    ['embed --dataset cifar10 --split train --shard auto', 'one shard of it per Slurm array task'],
  ],
  report: [
    ['report', "results/ as the paper's comparisons in results/report/ (report.md, CSV, LaTeX, figures)"],
    ['report --results runs --baseline-model resnet50', 'with Figures 5 and 11 against a baseline backbone'],
  ],
  regress: [
    ['regress --baseline results/baseline', 'exit 1 when a row dropped by more than 0.5 points'],
    ['regress --baseline results/baseline --run --significance 0.05', 're-run, then fail only on significant drops'],
    ['regress --baseline results/baseline --json', 'the verdicts as JSON'],
  ],
  compare: [
    ['compare results-fp32 results-int8', 'B - A per matching row, with intervals and McNemar p-values'],
    ['compare mini mini-int8 --results results', 'two models of one results folder'],
  ],
  models: [
    ['models', 'the built-in model, the aliases and what the Hugging Face cache holds'],
    ['models | grep ViT', "the paper's model names and the hub exports they stand for"],
  ],
  datasets: [
    ['datasets', 'what each dataset needs and whether it is here'],
    ['datasets --wide', "with splits, the paper's sizes, templates and roots"],
    ['datasets --dataset-root /data/imagenet', 'is ImageNet found under /data/imagenet?'],
  ],
  cache: [
    ['cache ls', 'the embedding cache entries'],
    ['cache rm --model mini', "remove the built-in model's entries"],
    ['cache finish --dataset cifar10', 'assemble the entries a sharded run completed'],
  ],
  tokenize: [
    ['tokenize "a photo of a cat."', 'the 77 token ids clip.tokenize gives'],
    ['tokenize --model ViT-B/32 "a photo of a dog." "a photo of a bird."', "two rows with a hub model's tokenizer"],
  ],
  preprocess: [
    ['preprocess cat.jpg --out cat.f32', 'the float32 [3,224,224] tensor the built-in model sees'],
    ['preprocess --size 336 cat.jpg --out cat336.f32', 'at another input size'],
  ],
};

/** Options listed first on every page, in this order; the rest keep the order the command gave them. */
const FIRST = ['--model', '--dataset', '--split', '--prompts', '--shots', '--seeds', '--tasks'];

function examplesText(name: string): string {
  const list = EXAMPLES[name];
  if (!list?.length) return '';
  return `\nExamples:\n${list.map(([cmd, what]) => `  clip-bench ${cmd}\n      ${what}`).join('\n')}\n`;
}

/** A default as the page prints it: numbers and lists bare, switches' false left out. */
function optionDescription(help: Help, option: Option): string {
  const text = option.description;
  const d = option.defaultValue;
  if (d === undefined || d === false || option.negate) return text;
  const shown = option.defaultValueDescription ?? (typeof d === 'string' ? d : JSON.stringify(d));
  return `${text} (default: ${shown})`.trim() || help.optionDescription(option);
}

/** Give every registered command (and subcommand) its examples, its defaults as values and its options in order. */
export function polishHelp(program: Command): void {
  const visit = (cmd: Command, path: string) => {
    const ex = examplesText(path);
    if (ex) cmd.addHelpText('after', ex);
    const rank = (o: Option) => {
      const i = FIRST.indexOf(o.long ?? '');
      return i < 0 ? FIRST.length : i;
    };
    const ordered = cmd.options.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i).map((x) => x.o);
    (cmd.options as Option[]).splice(0, cmd.options.length, ...ordered);
    cmd.configureHelp({ optionDescription: (option) => optionDescription(cmd.createHelp(), option) });
    for (const sub of cmd.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  for (const cmd of program.commands) visit(cmd, cmd.name());
}
