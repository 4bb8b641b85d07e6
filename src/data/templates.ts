import { UserError } from '../errors.js';

/**
 * The one rule for prompt templates, wherever they come from (a package's zeroshot_classification_templates.txt,
 * --templates FILE): exactly one placeholder, `{}` (Python's str.format, clip-bench's spelling) or `{c}`
 * (CLIP_benchmark's `template.format(c=classname)`). A template without one would give every class the same prompt;
 * one with two, or another `{name}`, is a typo. Returned with `{}`.
 */
export function checkTemplate(template: string, where: string): string {
  const fields = template.match(/\{[^{}]*\}/g) ?? [];
  const shown = JSON.stringify(template.length > 60 ? `${template.slice(0, 60)}...` : template);
  const other = fields.find((f) => f !== '{}' && f !== '{c}');
  if (other) throw new UserError(`${where} (${shown}): ${other} is not a placeholder (write {} or CLIP_benchmark's {c})`);
  if (fields.length === 0) throw new UserError(`${where} (${shown}) has no {} placeholder (or CLIP_benchmark's {c}): every class would get the same prompt`);
  if (fields.length > 1) throw new UserError(`${where} (${shown}) has ${fields.length} placeholders; a template takes the class name once`);
  return template.replace(fields[0]!, '{}');
}

/**
 * A text file of templates, one per line (LF or CRLF, a BOM and blank lines skipped, surrounding spaces trimmed),
 * each checked by checkTemplate and named by its line: `FILE: line 3`.
 */
export function parseTemplateLines(text: string, file: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split('\n').flatMap((line, i) => {
    const t = line.replace(/\r$/, '').trim();
    return t === '' ? [] : [checkTemplate(t, `${file}: line ${i + 1}`)];
  });
}
