// The layers of src/ only import downwards, and no module imports itself back through a circle (src/ and scripts/).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './support/helpers.js';

/**
 * The layer of each top-level folder (or file) of src/, lowest first; an import may point to its own layer or a
 * lower one. The order is stated in the README (Development). Folders on one rank do not import each other's
 * modules in a circle (the circle check below).
 */
const LAYER_ORDER: string[][] = [
  ['util', 'errors.ts', 'defaults.ts', 'version.ts'],
  ['image', 'paper'],
  ['model', 'hub'],
  ['data'],
  ['cache'],
  ['eval'],
  ['results'],
  ['tasks'],
  ['report'],
  ['suite'],
  ['cli'],
];

/**
 * Known violations that other changes of issue 18 remove; each entry is an edge `from -> to` (files under src/) or
 * a circle (its files, sorted, joined by ' <-> '). An entry that no longer occurs is reported, to be deleted.
 */
const ALLOWED = new Set<string>([]);

const SRC = path.join(repoRoot, 'src');
const SCRIPTS = path.join(repoRoot, 'scripts');

function rankOf(rel: string): number {
  const top = rel.split('/')[0]!;
  const rank = LAYER_ORDER.findIndex((names) => names.includes(top));
  assert.ok(rank >= 0, `src/${rel}: src/${top} has no layer in LAYER_ORDER (test/architecture.test.ts); give it one and state it in the README`);
  return rank;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** Relative module specifiers of a TypeScript file: static imports and re-exports (type-only ones too) and import(). */
function specifiersOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out.filter((s) => s.startsWith('.'));
}

/** The import graph of src/: file (relative to src/, '/'-separated) -> the src files it imports. */
function srcGraph(): Map<string, string[]> {
  const files = listTs(SRC);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = specifiersOf(readFileSync(path.join(SRC, f), 'utf8')).map((s) => {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), s)).replace(/\.js$/, '.ts');
      assert.ok(known.has(target), `src/${f} imports ${s}, which is not a file under src/`);
      return target;
    });
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** Modules of scripts/*.py imported by other scripts (`import x`, `from x import y`, also inside functions). */
function scriptsGraph(): Map<string, string[]> {
  const names = new Set(readdirSync(SCRIPTS).filter((f) => f.endsWith('.py')).map((f) => f.slice(0, -3)));
  const graph = new Map<string, string[]>();
  for (const name of [...names].sort()) {
    const text = readFileSync(path.join(SCRIPTS, name + '.py'), 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(/^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w., ]+))/gm)) {
      for (const mod of (m[1] ?? m[2]!).split(',').map((x) => x.trim().split(/\s+/)[0]!)) if (names.has(mod)) deps.add(mod);
    }
    graph.set(name + '.py', [...deps].map((d) => d + '.py'));
  }
  return graph;
}

/** The circles of a graph: its strongly connected components of more than one node (or a node importing itself). */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Violations not in ALLOWED fail; ALLOWED entries that no longer occur are reported for deletion. */
function check(found: string[], t: { diagnostic(msg: string): void }, what: string): void {
  const unexpected = found.filter((v) => !ALLOWED.has(v));
  for (const a of ALLOWED) if (a.includes(what === 'scripts' ? '.py' : '.ts') && !found.includes(a)) t.diagnostic(`ALLOWED entry no longer occurs, delete it: ${a}`);
  assert.deepEqual(unexpected, [], `${what}:\n  ${unexpected.join('\n  ')}`);
}

test('src/: no import points from a lower layer to a higher one', (t) => {
  const graph = srcGraph();
  assert.ok(graph.size > 100, `read ${graph.size} files under src/`);
  const up: string[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) if (rankOf(to) > rankOf(from)) up.push(`${from} -> ${to}`);
  }
  check(up, t, 'imports that climb a layer (file -> the file it imports)');
});

test('src/: no import circles', (t) => {
  check(circles(srcGraph()).map((c) => c.join(' <-> ')), t, 'import circles');
});

test('scripts/: no import circles among the Python scripts', (t) => {
  const graph = scriptsGraph();
  assert.ok(graph.size > 5, `read ${graph.size} scripts`);
  check(circles(graph).map((c) => c.join(' <-> ')), t, 'scripts');
});

test('scripts/: one naming style (snake_case: Python imports its scripts as modules)', () => {
  const names = readdirSync(SCRIPTS, { recursive: true, encoding: 'utf8' }).map((f) => f.split(path.sep).join('/'));
  const files = names.filter((f) => /\.(py|mjs|js|sh)$/.test(f));
  assert.ok(files.length > 10, `read ${files.length} scripts`);
  assert.deepEqual(files.filter((f) => !/^[a-z0-9_/]+\.(py|mjs|js|sh)$/.test(f)), [], 'scripts named otherwise than snake_case');
});

test('test/: grouped like src/ (a folder per layer, helper modules in support/, none in fixtures/)', () => {
  const TEST = path.join(repoRoot, 'test');
  const layers = new Set(LAYER_ORDER.flat().filter((n) => !n.endsWith('.ts')));
  const folders = readdirSync(TEST, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.ok(folders.length > 5, `read ${folders.length} folders under test/`);
  assert.deepEqual(folders.filter((f) => !layers.has(f) && f !== 'fixtures' && f !== 'support'), [], 'test/ folders that name no layer of src/');
  assert.deepEqual(listTs(path.join(TEST, 'fixtures')), [], 'TypeScript modules under test/fixtures/ (helpers belong in test/support/)');
  assert.deepEqual(listTs(path.join(TEST, 'support')).filter((f) => f.endsWith('.test.ts')), [], 'tests under test/support/');
});

test('the checks see what they check: a climbing import and a circle are found', () => {
  assert.deepEqual(specifiersOf("import type { A } from '../cli/x.js';\nexport { b } from './b.js';\nconst m = await import('../report/y.js');\n// import { c } from './c.js';"), [
    '../cli/x.js',
    './b.js',
    '../report/y.js',
  ]);
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  assert.ok(rankOf('data/x.ts') > rankOf('image/y.ts') && rankOf('cli/x.ts') > rankOf('report/y.ts'));
});
