import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vitImageGflops } from '../../src/model/flops.js';

test("image GFLOPs as the paper's Figure 9 counts them", () => {
  const vit = (size: number, patch: number, d: number, layers: number, proj: number) =>
    vitImageGflops({ projection_dim: proj, vision_config: { image_size: size, patch_size: patch, hidden_size: d, intermediate_size: 4 * d, num_hidden_layers: layers } });
  assert.equal(vit(224, 32, 768, 12, 512)!.toFixed(1), '4.4'); // ViT-B/32
  assert.equal(vit(224, 16, 768, 12, 512)!.toFixed(1), '17.6'); // ViT-B/16
  assert.equal(vitImageGflops({ vision_config: { image_size: 224 } }), null);
  assert.equal(vitImageGflops(null), null);
});
