import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { readTextFile } from '../util/fs.js';
import { imagenetTemplates, imagenetTemplateSubset, paperPrompts } from '../data/prompts.js';
import { checkTemplate, parseTemplateLines } from '../data/templates.js';

export type PromptMode = 'contextless' | 'single' | 'ensemble';
export const PROMPT_MODES: readonly PromptMode[] = ['contextless', 'single', 'ensemble'];

/** The paper's baseline is the bare class name; its default single prompt is "a photo of a {}.". */
export const CONTEXTLESS_TEMPLATE = '{}';
export const SINGLE_TEMPLATE = 'a photo of a {}.';

export function parsePromptModes(value: string): PromptMode[] {
  const modes = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (modes.length === 0) throw new UserError('--prompts: expected a comma-separated list of contextless, single, ensemble');
  for (const m of modes) {
    if (!PROMPT_MODES.includes(m as PromptMode)) {
      throw new UserError(`--prompts ${m}: unknown prompt mode (one of ${PROMPT_MODES.join(', ')})`);
    }
  }
  return PROMPT_MODES.filter((m) => modes.includes(m));
}

/** Built-in template lists by name: imagenet80, imagenet7, or any dataset key of the paper's prompts (cifar10, ...). */
function builtinTemplates(name: string): string[] | undefined {
  if (name === 'imagenet80') return imagenetTemplates();
  if (name === 'imagenet7') return imagenetTemplateSubset();
  const p = paperPrompts(name);
  return p && p.templates.length > 0 ? p.templates : undefined;
}

/** --templates NAME|FILE: a built-in list, a JSON array, or a text file with one template per line ({} or {c}, see data/templates.ts). */
export function loadTemplates(spec: string): string[] {
  const builtin = builtinTemplates(spec);
  if (builtin) return builtin;
  if (!existsSync(spec)) throw new UserError(`--templates ${spec}: neither a file nor a built-in list (imagenet80, imagenet7, or a dataset name such as cifar10)`);
  const text = readTextFile(spec, `--templates ${spec}`);
  let templates: string[];
  if (text.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new UserError(`--templates ${spec}: invalid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(parsed) || !parsed.every((t) => typeof t === 'string')) {
      throw new UserError(`--templates ${spec}: expected a JSON array of strings`);
    }
    templates = parsed.map((t, i) => checkTemplate(t, `--templates ${spec}: entry [${i}]`));
  } else {
    // the same rule as a package's templates file: {} or {c}, once
    templates = parseTemplateLines(text, `--templates ${spec}`);
  }
  if (templates.length === 0) throw new UserError(`--templates ${spec}: no templates`);
  return templates;
}

/** The templates of a prompt mode: the ensemble is the dataset's own list, else ImageNet's 80. */
export function templatesFor(mode: PromptMode, datasetTemplates: string[], override?: string[]): string[] {
  if (mode === 'contextless') return [CONTEXTLESS_TEMPLATE];
  if (mode === 'single') return [SINGLE_TEMPLATE];
  if (override) return override;
  return datasetTemplates.length > 0 ? datasetTemplates : imagenetTemplates();
}

/**
 * Prompts class by class: for class c, every template filled with each of its names (Python's str.format('{}')).
 * Returns the texts and how many belong to each class.
 */
export function fillPrompts(classNames: string[][], templates: string[]): { texts: string[]; perClass: number[] } {
  const texts: string[] = [];
  const perClass: number[] = [];
  for (const names of classNames) {
    for (const name of names) for (const t of templates) texts.push(t.replaceAll('{}', name));
    perClass.push(names.length * templates.length);
  }
  return { texts, perClass };
}

/** Names per class: the paper lists several for some classes (FER2013), used unless the user gave names. */
export function classNamesForPrompts(dataset: string, classes: string[], userGiven: boolean): string[][] {
  const synonyms = userGiven ? undefined : paperPrompts(dataset)?.synonyms;
  return synonyms && synonyms.length === classes.length ? synonyms : classes.map((c) => [c]);
}
