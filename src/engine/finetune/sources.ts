// Training outliers must never be scored as a test split: the same folder (or a folder inside or around it, since
// folders are listed recursively), the same manifest split, or noise with the same seed is refused.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseNoiseSpec } from '../dataset/noise';
import { parseManifestSource } from '../dataset/manifest';
import { UserError } from '../util/errors';

interface Key {
  kind: 'noise' | 'path';
  /** Noise seed, or the real path (a manifest's file). */
  at: string;
  /** A manifest's #split selector ('' for every row or a folder). */
  split: string;
}

async function keyOf(source: string): Promise<Key> {
  const noise = parseNoiseSpec(source);
  if (noise) return { kind: 'noise', at: String(noise.seed), split: '' };
  const manifest = parseManifestSource(source);
  const file = manifest ? manifest.file : source;
  const real = await fs.realpath(path.resolve(file)).catch(() => path.resolve(file));
  return { kind: 'path', at: real, split: manifest?.split ?? '' };
}

const inside = (a: string, b: string) => a === b || a.startsWith(b.endsWith(path.sep) ? b : b + path.sep);

function overlaps(a: Key, b: Key): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'noise') return a.at === b.at;
  if (!(inside(a.at, b.at) || inside(b.at, a.at))) return false;
  // Two different splits of one manifest are different images.
  return a.at !== b.at || !a.split || !b.split || a.split === b.split;
}

/**
 * Throws a UserError when the outlier source is, contains or lies inside a test split's source (given with its
 * flag, e.g. `--ood`), compared by resolved real paths.
 */
export async function checkOutlierSource(outliers: string, others: { flag: string; source: string }[]): Promise<void> {
  const o = await keyOf(outliers);
  for (const other of others) {
    const k = await keyOf(other.source);
    if (!overlaps(o, k)) continue;
    const what = o.kind === 'noise'
      ? `${other.flag} ${other.source}: noise with seed ${o.at}, the same images (give the outliers another seed: noise:N:SEED)`
      : `${other.flag} ${other.source}${o.at === k.at ? '' : ' (one folder inside the other)'}`;
    throw new UserError(`--outliers ${outliers} trains the layer and cannot also be a test split: it overlaps ${what}`);
  }
}
