/**
 * Report plots: Vega-Lite specs rendered headless to SVG (vega, renderer 'none'), with a PNG (sharp) and a vector
 * PDF (pdfkit + svg-to-pdfkit) of the same SVG beside it.
 */
import path from 'node:path';
import PDFDocument from 'pdfkit';
import sharp from 'sharp';
import SVGtoPDF from 'svg-to-pdfkit';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { atomicWriteFileSync } from '../util/fs.js';
import { wrapLines } from '../util/text-table.js';

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 12,
  title: { fontSize: 17, subtitleFontSize: 12, anchor: 'start', offset: 12 },
  axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 8, labelLimit: 220 },
  // '~f': 83.73, never 83.730000 (a one-point domain puts a tick at the value itself)
  axisQuantitative: { format: '~f' },
  legend: { labelFontSize: 12, titleFontSize: 13, labelLimit: 300 },
  header: { labelFontSize: 13, titleFontSize: 14, labelFontWeight: 'bold' },
  view: { stroke: '#ccc' },
} as const;

/** The most characters of a subtitle line: longer subtitles wrap, so that they never widen the canvas past the plot. */
const SUBTITLE_LINE = 64;

function wrapSubtitle(spec: TopLevelSpec): TopLevelSpec {
  const title = (spec as { title?: { subtitle?: unknown } }).title;
  if (!title || typeof title.subtitle !== 'string' || title.subtitle.length <= SUBTITLE_LINE) return spec;
  return { ...spec, title: { ...title, subtitle: wrapLines(title.subtitle, SUBTITLE_LINE) } } as TopLevelSpec;
}

/** Render a Vega-Lite spec to SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const full = { ...wrapSubtitle(spec), config: { ...CONFIG, ...(spec as { config?: object }).config } } as TopLevelSpec;
  const vgSpec = compile(full, { logger: vega.logger(vega.Error) as never }).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG as a one-page vector PDF of the same size (points = SVG pixels), with a fixed date so that it is reproducible. */
export async function svgToPdf(svg: string): Promise<Buffer> {
  const size = /<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(svg);
  if (!size) throw new Error('report: the rendered SVG has no width and height');
  const [width, height] = [Number(size[1]), Number(size[2])];
  const doc = new PDFDocument({ size: [width, height], margin: 0, info: { Creator: 'clip-bench', Producer: 'clip-bench', CreationDate: new Date(0) } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  SVGtoPDF(doc, svg, 0, 0, { width, height, assumePt: true });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

/** The file names `writePlot` writes for a plot `name`. */
export const plotFiles = (name: string): string[] => [`${name}.svg`, `${name}.png`, `${name}.pdf`];

/** Write `<dir>/<name>.svg`, `.png` (144 dpi) and `.pdf` (vector); returns the three paths. */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<{ svg: string; png: string; pdf: string }> {
  const svg = await renderSvg(spec);
  const [svgPath, pngPath, pdfPath] = plotFiles(name).map((f) => path.join(dir, f)) as [string, string, string];
  atomicWriteFileSync(svgPath, svg);
  atomicWriteFileSync(pngPath, await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer());
  atomicWriteFileSync(pdfPath, await svgToPdf(svg));
  return { svg: svgPath, png: pngPath, pdf: pdfPath };
}

type Datum = Record<string, string | number | null>;

/** One chart, or (`by` a field) one row of panels per value of that field, each with its own `independent` scale. */
function panels(base: object, layer: object, by: string | null, independent: 'x' | 'y'): TopLevelSpec {
  if (!by) return { ...base, ...layer } as unknown as TopLevelSpec;
  return { ...base, facet: { row: { field: by, type: 'nominal', title: null } }, spec: layer, resolve: { scale: { [independent]: 'independent' } } } as unknown as TopLevelSpec;
}

/** Prompt-engineering gains: grouped bars per dataset (one group per dataset, one bar per gain), one panel per model. */
export function promptGainSpec(data: Datum[], nModels: number): TopLevelSpec {
  const nDatasets = new Set(data.map((d) => d.dataset)).size;
  const x = { field: 'dataset', type: 'nominal', title: 'dataset', axis: { labelAngle: -35 } };
  const xOffset = { field: 'gain', type: 'nominal', sort: ['single vs contextless', 'ensemble vs single'] };
  const y = { field: 'points', type: 'quantitative', title: 'accuracy gain (percentage points)' };
  const layer = {
    width: Math.max(240, nDatasets * 64),
    height: 240,
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x, xOffset, y,
          color: {
            field: 'gain', type: 'nominal', title: 'gain',
            sort: ['single vs contextless', 'ensemble vs single'],
            scale: { range: ['#4c78a8', '#f58518'] },
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
        },
      },
      // the value on every bar, so that a 0.00 gain (no bar at all) still reads
      ...[['datum.points >= 0', 'bottom', -3], ['datum.points < 0', 'top', 3]].map(([filter, baseline, dy]) => ({
        transform: [{ filter }],
        mark: { type: 'text', fontSize: 10, baseline, dy },
        encoding: { x, xOffset, y, text: { field: 'points', type: 'quantitative', format: '+.2f' } },
      })),
      { mark: { type: 'rule', color: '#333' }, encoding: { y: { datum: 0, type: 'quantitative' } } },
    ],
  };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Prompt engineering gains', subtitle: 'primary metric; single template vs class name alone, template ensemble vs single template' },
    data: { values: data },
  };
  return panels(base, layer, nModels > 1 ? 'model' : null, 'x');
}

/** Few-shot curves: x = shots per class (log2), mean ± std band, zero-shot dashed rule; one panel per dataset, one colour per model. */
export function fewshotSpec(points: Datum[], rules: Datum[], shots: number[], band = '± 1 std'): TopLevelSpec {
  const data: Datum[] = [...points.map((p) => ({ ...p, kind: 'fewshot' })), ...rules.map((r) => ({ ...r, kind: 'zeroshot' }))];
  const nDatasets = new Set(data.map((d) => d.dataset)).size;
  const x = {
    field: 'shots', type: 'quantitative', title: 'labelled examples per class (log₂ scale)',
    scale: { type: 'log', base: 2, domain: [Math.min(...shots), Math.max(...shots)], nice: false },
    axis: { values: shots, format: 'd', grid: true },
  };
  const color = { field: 'model', type: 'nominal', title: 'model', legend: { orient: 'bottom', direction: 'horizontal', symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 } };
  const y = { type: 'quantitative', title: 'accuracy (%)', scale: { zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Zero-shot vs few-shot linear probes', subtitle: `line: few-shot mean over seeds, band: ${band}; dashed: zero-shot` },
    data: { values: data },
    facet: { field: 'dataset', type: 'nominal', title: null },
    columns: Math.min(3, nDatasets),
    spec: {
      width: 240,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'fewshot'" }],
          mark: { type: 'area', opacity: 0.2 },
          encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
        },
        {
          transform: [{ filter: "datum.kind === 'fewshot'" }],
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: { x, y: { ...y, field: 'mean' }, color },
        },
        {
          transform: [{ filter: "datum.kind === 'zeroshot'" }],
          mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 },
          encoding: { y: { ...y, field: 'zeroshot' }, color },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** Data efficiency: horizontal bars sorted by examples per class (like the paper's Figure 7). */
export function dataEfficiencySpec(data: Datum[], nModels: number, medians: Datum[]): TopLevelSpec {
  const nDatasets = new Set(data.map((d) => d.dataset)).size;
  const layer = {
    width: 420,
    height: Math.max(80, nDatasets * 24),
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          y: { field: 'dataset', type: 'nominal', sort: { field: 'value', op: 'max', order: 'descending' }, title: null },
          x: { field: 'value', type: 'quantitative', title: 'labelled examples per class to match zero-shot' },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 12 },
        encoding: {
          y: { field: 'dataset', type: 'nominal', sort: { field: 'value', op: 'max', order: 'descending' } },
          x: { field: 'value', type: 'quantitative' },
          text: { field: 'value', type: 'quantitative', format: '.1f' },
        },
      },
    ],
  };
  const subtitle = medians.map((m) => `${nModels > 1 ? `${m.model}: ` : ''}median ${m.median ?? '–'}, mean ${m.mean ?? '–'}`).join('; ');
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Data efficiency of zero-shot transfer', subtitle },
    data: { values: data },
  };
  return panels(base, layer, nModels > 1 ? 'model' : null, 'y');
}

/** Zero-shot minus a linear probe per dataset (Figure 5), diverging bars. */
export function supervisedGapSpec(data: Datum[], nModels: number, baselineLabel: string): TopLevelSpec {
  return deltaBarsSpec(data, nModels, {
    title: 'Zero-shot vs fully supervised linear probe',
    subtitle: `linear probe: ${baselineLabel}; green: zero-shot better`,
    axis: 'zero-shot − linear probe (percentage points)',
  });
}

/** The x axis of the plots against compute (model scaling, Figure 10). */
const GFLOPS_X = { field: 'gflops', type: 'quantitative', title: 'image encoder GFLOPs per image (log scale)', scale: { type: 'log' } };

/** Scaling: GFLOPs per image (log) vs mean accuracy, one line per evaluation. */
export function scalingSpec(data: Datum[]): TopLevelSpec {
  const x = GFLOPS_X;
  const y = { field: 'accuracy', type: 'quantitative', title: 'mean accuracy over shared datasets (%)', scale: { zero: false } };
  const color = { field: 'evaluation', type: 'nominal', title: 'evaluation', legend: { orient: 'bottom', direction: 'horizontal' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Model scaling', subtitle: 'mean primary metric over the datasets all models share' },
    data: { values: data },
    width: 420,
    height: 280,
    layer: [
      { mark: { type: 'line', point: { size: 60 }, strokeWidth: 2 }, encoding: { x, y, color } },
      { mark: { type: 'text', dy: -10, fontSize: 11 }, encoding: { x, y, text: { field: 'model' }, color } },
    ],
  } as unknown as TopLevelSpec;
}

/** Diverging bars of a per-dataset difference (Figures 5 and 11): one panel per model, green where positive. */
export function deltaBarsSpec(data: Datum[], nModels: number, text: { title: string; subtitle: string; axis: string }): TopLevelSpec {
  const nDatasets = new Set(data.map((d) => d.dataset)).size;
  const layer = {
    width: 420,
    height: Math.max(80, nDatasets * 24),
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'dataset', type: 'nominal', sort: '-x', title: null },
      x: { field: 'delta', type: 'quantitative', title: text.axis },
      color: { condition: { test: 'datum.delta >= 0', value: '#54a24b' }, value: '#e45756' },
    },
  };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: { text: text.title, subtitle: text.subtitle }, data: { values: data } };
  return panels(base, layer, nModels > 1 ? 'model' : null, 'y');
}

/** Figure 8: zero-shot (y) against the same model's linear probe (x) per dataset, with the y = x line. */
export function zeroshotVsProbeScatterSpec(data: Datum[]): TopLevelSpec {
  const vals = data.flatMap((d) => [d.zeroshot as number, d.linear_probe as number]);
  const lo = Math.max(0, Math.floor(Math.min(...vals) / 10) * 10);
  const hi = Math.min(100, Math.ceil(Math.max(...vals) / 10) * 10);
  const scale = { domain: [lo, hi], nice: false };
  const color = { field: 'model', type: 'nominal', title: 'model', legend: { orient: 'bottom', direction: 'horizontal' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Zero-shot vs the same model\'s linear probe', subtitle: 'one point per dataset; dashed: zero-shot = linear probe (the paper: 10-25 points below on most datasets)' },
    width: 360,
    height: 360,
    layer: [
      {
        data: { values: [{ x: lo, y: lo }, { x: hi, y: hi }] },
        mark: { type: 'line', strokeDash: [6, 4], color: '#888' },
        encoding: { x: { field: 'x', type: 'quantitative', scale }, y: { field: 'y', type: 'quantitative', scale } },
      },
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'linear_probe', type: 'quantitative', title: 'linear probe (%)', scale },
          y: { field: 'zeroshot', type: 'quantitative', title: 'zero-shot (%)', scale },
          color,
        },
      },
      {
        data: { values: data },
        mark: { type: 'text', dx: 6, align: 'left', fontSize: 10 },
        encoding: { x: { field: 'linear_probe', type: 'quantitative', scale }, y: { field: 'zeroshot', type: 'quantitative', scale }, text: { field: 'dataset' }, color },
      },
    ],
  } as unknown as TopLevelSpec;
}

/** Figure 6 averaged over the datasets run: our few-shot curves (solid) and zero-shot (dashed), the paper's curves in grey. */
export function fewshotAverageSpec(ours: Datum[], oursZeroshot: Datum[], paper: Datum[], paperZeroshot: Datum[], shots: number[]): TopLevelSpec {
  const x = {
    field: 'shots', type: 'quantitative', title: 'labelled examples per class (log₂ scale)',
    scale: { type: 'log', base: 2, domain: [Math.min(...shots), Math.max(...shots)], nice: false },
    axis: { values: shots, format: 'd', grid: true },
  };
  const y = { field: 'accuracy', type: 'quantitative', title: 'average accuracy (%)', scale: { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, symbolType: 'stroke', symbolStrokeWidth: 3 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Zero-shot vs few-shot, averaged over datasets (Figure 6)', subtitle: "solid: linear probes on k shots; dashed: zero-shot; grey: the paper's curves over its 20 datasets" },
    width: 440,
    height: 300,
    layer: [
      { data: { values: paper }, mark: { type: 'line', point: true, strokeWidth: 1.5, opacity: 0.55 }, encoding: { x, y, detail: { field: 'series' }, color: { value: '#999' } } },
      { data: { values: paper }, transform: [{ filter: `datum.shots === ${Math.max(...(paper.map((p) => p.shots as number)))}` }], mark: { type: 'text', align: 'left', dx: 5, fontSize: 10, color: '#777' }, encoding: { x, y, text: { field: 'series' } } },
      { data: { values: paperZeroshot }, mark: { type: 'rule', strokeDash: [6, 4], color: '#999' }, encoding: { y: { field: 'accuracy', type: 'quantitative' } } },
      { data: { values: ours }, mark: { type: 'line', point: true, strokeWidth: 2.5 }, encoding: { x, y, color } },
      { data: { values: oursZeroshot }, mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 }, encoding: { y: { field: 'accuracy', type: 'quantitative' }, color } },
    ],
  } as unknown as TopLevelSpec;
}

/** Figure 10: mean linear-probe score against image GFLOPs, ours and the paper's Table 10 averages. */
export function representationSpec(data: Datum[], paperModels: Datum[] = []): TopLevelSpec {
  const x = GFLOPS_X;
  const y = { field: 'average', type: 'quantitative', title: 'average linear-probe score (%)', scale: { zero: false } };
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 400 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Linear-probe averages against compute (Figure 10)', subtitle: "ours over the datasets run, Kornblith's 12 and all 27 where complete; the paper's Table 10 for models of the same name; grey: the paper's CLIP ResNets over all 27" },
    data: { values: data },
    width: 440,
    height: 300,
    layer: [
      // the paper's models (Table 10, all 27 datasets) in grey, whatever the user's models are called
      ...(paperModels.length
        ? [
            { data: { values: paperModels }, mark: { type: 'point', filled: true, size: 50, color: '#aaa' }, encoding: { x: { ...x }, y: { ...y } } },
            { data: { values: paperModels }, mark: { type: 'text', dy: -9, fontSize: 9, color: '#888' }, encoding: { x: { ...x }, y: { ...y }, text: { field: 'model' } } },
          ]
        : []),
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, color, shape: { field: 'series', type: 'nominal', legend: null } } },
      // one label per model, above its highest point: its series share an x (its GFLOPs), so labels on each would overlap
      {
        transform: [
          { window: [{ op: 'row_number', as: 'rank' }], groupby: ['model'], sort: [{ field: 'average', order: 'descending' }] },
          { filter: 'datum.rank === 1' },
        ],
        mark: { type: 'text', dy: -10, fontSize: 10, color: '#333' },
        encoding: { x, y, text: { field: 'model' } },
      },
    ],
  } as unknown as TopLevelSpec;
}

/**
 * The summary's ranking: every paper model's linear-probe average over the datasets run here (grey bars) and the
 * user's model on the same datasets (highlighted), best first; one panel per user model.
 */
export function rankSpec(data: Datum[]): TopLevelSpec {
  const nPanels = new Set(data.map((d) => d.highlight)).size;
  const perPanel = Math.max(...[...new Set(data.map((d) => d.highlight))].map((h) => data.filter((d) => d.highlight === h).length));
  const layer = {
    width: 360,
    height: Math.max(120, perPanel * 13),
    layer: [
      {
        mark: { type: 'bar', height: 9 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'order', op: 'min', order: 'ascending' }, title: null, axis: { labelFontSize: 10, labelLimit: 320 } },
          x: { field: 'mean', type: 'quantitative', title: 'average linear-probe score over the same datasets (%)', scale: { zero: false } },
          color: {
            field: 'source', type: 'nominal', title: null,
            scale: { domain: ['ours', "the paper's Table 10"], range: ['#f58518', '#bbbbbb'] },
            legend: { orient: 'bottom', direction: 'horizontal' },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: { y: { field: 'label', type: 'nominal', sort: { field: 'order', op: 'min', order: 'ascending' } }, x: { field: 'mean', type: 'quantitative' }, text: { field: 'mean', type: 'quantitative', format: '.1f' } },
      },
    ],
  };
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: "Linear probe beside the paper's models", subtitle: "each of the paper's Table 10 models averaged over the datasets of its 27 that were run here" },
    data: { values: data },
  };
  return panels(base, layer, nPanels > 1 ? 'highlight' : null, 'y');
}
