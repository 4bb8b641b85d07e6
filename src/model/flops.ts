import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * GFLOPs of one image through a ViT image tower, counted as the CLIP paper's Figure 9 counts them (one
 * multiply-add = one FLOP, as fvcore does: ViT-B/32 = 4.4), from a Hugging Face CLIP config.json
 * (vision_config: image_size, patch_size, hidden_size, intermediate_size, num_hidden_layers; projection_dim).
 * null when the config does not describe a ViT (then `report --models-table` can supply the figure).
 */
export function vitImageGflops(config: unknown): number | null {
  const c = config as { projection_dim?: number; vision_config?: Record<string, number> } | null;
  const v = c?.vision_config;
  const size = v?.image_size;
  const patch = v?.patch_size;
  const d = v?.hidden_size;
  const mlp = v?.intermediate_size;
  const layers = v?.num_hidden_layers;
  if (![size, patch, d, mlp, layers].every((x) => typeof x === 'number' && x > 0)) return null;
  const patches = (size! / patch!) ** 2;
  const tokens = patches + 1;
  const perLayer = 4 * tokens * d! * d! + 2 * tokens * tokens * d! + 2 * tokens * d! * mlp!;
  const macs = patches * 3 * patch! * patch! * d! + layers! * perLayer + d! * (c?.projection_dim ?? v?.projection_dim ?? d!);
  return macs / 1e9;
}

/** vitImageGflops of a model directory's config.json, or null. */
export function modelImageGflops(dir: string): number | null {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return null;
  try {
    return vitImageGflops(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return null;
  }
}
