import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paperTables } from '../../src/paper/paper.js';
import { againstPaperLinearProbe, linearProbeDelta } from '../../src/report/compare-paper.js';
import { paperRowsOf, paperTablesFor, parsePaperModels } from '../../src/report/paper-models.js';
import type { LinearProbeRow } from '../../src/results/index.js';

const row = (model: string, features: 'embedding' | 'pre-projection', top1: number): LinearProbeRow => ({
  model, dataset: 'cifar10', features, n_train: 100, n_val: 0, n_test: 100, C: 1, top1, top5: null, mean_per_class: top1,
  primary_metric: 'accuracy', solver: 'lbfgs', seconds: 1, limit: null, subset_seed: null, skipped_images: 0,
});

test('--paper-model ties a renamed model to a paper row; a known model\'s other names find theirs; unknown rows are refused', () => {
  const paper = paperTables();
  const explicit = parsePaperModels('my-clip=ViT-B/32', paper);
  const rows = paperRowsOf(['my-clip', 'openai/clip-vit-base-patch16', 'ViT-L-14:openai', 'ViT-B/32', 'other'], explicit);
  assert.deepEqual([...rows], [['my-clip', 'ViT-B/32'], ['openai/clip-vit-base-patch16', 'ViT-B/16'], ['ViT-L-14:openai', 'ViT-L/14']]);
  const view = paperTablesFor(paper, rows);
  assert.equal(view.table10_linear_probe.models['my-clip'], paper.table10_linear_probe.models['ViT-B/32']);
  assert.equal(view.table11_zero_shot.models['my-clip'], paper.table11_zero_shot.models['ViT-B/32']);
  assert.throws(() => parsePaperModels('my-clip=ViT-Z/1', paper), /'ViT-Z\/1' is not a row of the paper's Tables 10\/11/);
  assert.throws(() => parsePaperModels('ViT-B/32', paper), /expected MODEL=PAPER_ROW/);
});

test('the Table 10 comparison takes the pre-projection rows where a model has them, and says which features it used', () => {
  const paper = paperTablesFor(paperTables(), new Map([['my-clip', 'ViT-B/32'], ['emb-only', 'ViT-B/16']]));
  const lp = [row('my-clip', 'embedding', 90), row('my-clip', 'pre-projection', 95), row('emb-only', 'embedding', 80)];
  const c = againstPaperLinearProbe(lp, paper);
  const byModel = new Map(c.rows.map((r) => [r.model, r]));
  assert.equal(byModel.get('my-clip')!.features, 'pre-projection');
  assert.equal(byModel.get('my-clip')!.ours, 95);
  assert.equal(byModel.get('my-clip')!.paper, paperTables().table10_linear_probe.models['ViT-B/32']!.cifar10);
  assert.equal(byModel.get('emb-only')!.features, 'embedding');
  assert.equal(c.rows.length, 2);
  // probe minus probe: like with like (emb-only has no pre-projection rows: both take the embedding)
  const d = linearProbeDelta(lp, 'emb-only', paper);
  assert.equal(d.rows[0]!.linear_probe, 90);
  assert.equal(d.rows[0]!.delta, 10);
});
