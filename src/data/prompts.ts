import fs from 'node:fs';
import path from 'node:path';
import { bundledDataDir } from './paths.js';

/** One entry of datasets/prompts.json (the CLIP paper's class names and templates). */
export interface PaperPrompts {
  /** one name per class (the first synonym where the paper lists several) */
  classes: string[];
  /** every name the paper lists per class (fer2013 has several; elsewhere one each) */
  synonyms: string[][];
  templates: string[];
}

type RawEntry = { classes: (string | string[])[]; templates: string[] };
let table: Record<string, RawEntry> | undefined;

function load(): Record<string, RawEntry> {
  if (!table) {
    const file = path.join(bundledDataDir(), 'prompts.json');
    table = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, RawEntry>;
  }
  return table;
}

/** Keys of datasets/prompts.json (cifar10, imagenet, fer2013, ...). */
export function promptKeys(): string[] {
  return Object.keys(load());
}

/** The paper's class names and templates for `key`, or undefined when prompts.json has no such key. */
export function paperPrompts(key: string): PaperPrompts | undefined {
  const e = load()[key];
  if (!e) return undefined;
  const synonyms = e.classes.map((c) => (Array.isArray(c) ? [...c] : [c]));
  return { classes: synonyms.map((s) => s[0]!), synonyms, templates: [...e.templates] };
}

/** ImageNet's 80 templates: the fallback for datasets without templates of their own. */
export function imagenetTemplates(): string[] {
  return paperPrompts('imagenet')!.templates;
}

/** The 7 ImageNet templates found by the notebook's sequential forward selection. */
export function imagenetTemplateSubset(): string[] {
  return paperPrompts('imagenet_templates_subset')!.templates;
}
