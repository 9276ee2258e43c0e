// One preprocessing spec's folder of packs and the index the decoding threads search.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { PreprocessSpec } from '../image/preprocess';
import { RECORD_WORDS, readPackIndex, type PackRef } from './pack-format';
import type { SpecIndex } from './messages';
import type { WrittenPack } from './pack-writer';

/**
 * Bump when decoding, channel conversion, resizing or cropping changes any pixel: cached pixels of an older
 * version are then never read (the sharp version is part of the key already).
 */
const PIXELS_VERSION = 1;
/** The folder under the cache folder that holds this format's packs. */
export const FORMAT_DIR = 'v1';

let sharpVersion: string | undefined;
/** sharp's version without loading libvips: a different libvips may decode a JPEG differently. */
function installedSharp(): string {
  if (sharpVersion === undefined) {
    try {
      const main = require.resolve('sharp');
      const pkg = path.join(main.slice(0, main.lastIndexOf(`${path.sep}node_modules${path.sep}sharp${path.sep}`)), 'node_modules', 'sharp', 'package.json');
      sharpVersion = String(JSON.parse(readFileSync(pkg, 'utf8')).version);
    } catch {
      sharpVersion = '';
    }
  }
  return sharpVersion;
}

/**
 * What makes the pixels: everything in the spec but the layout and the scaling/normalization, which are applied
 * after the cache (a model retrained with other mean/std still hits). Fields added to PreprocessSpec count.
 */
export function pixelSpecKey(spec: PreprocessSpec): string {
  const after = new Set(['layout', 'rescale', 'mean', 'std']);
  const fields = Object.entries(spec).filter(([k, v]) => !after.has(k) && v !== undefined).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([PIXELS_VERSION, installedSharp(), fields]);
}

export class SpecStore {
  readonly dir: string;
  readonly hash: Uint8Array;
  readonly sampleBytes: number;
  private index: SpecIndex | null | undefined;

  constructor(root: string, spec: PreprocessSpec) {
    this.hash = createHash('sha256').update(pixelSpecKey(spec)).digest().subarray(0, 16);
    this.dir = path.join(root, FORMAT_DIR, Buffer.from(this.hash).toString('hex'));
    this.sampleBytes = spec.channels * spec.height * spec.width;
  }

  /** The index of every valid pack, newest first; read from disk on first use. Null when there is none. */
  current(): SpecIndex | null {
    if (this.index === undefined) this.index = this.load();
    return this.index;
  }

  /** Makes a pack written by this run visible to the lookups that follow. */
  add(pack: WrittenPack): void {
    const old = this.current();
    const oldWords = old ? new Uint32Array(old.records) : new Uint32Array(0);
    const records = new SharedArrayBuffer((pack.records.length + oldWords.length) * 4);
    const words = new Uint32Array(records);
    words.set(pack.records);
    words.set(oldWords, pack.records.length);
    const count = pack.records.length / RECORD_WORDS;
    const packs: PackRef[] = [{ file: pack.file, first: 0, count }, ...(old?.packs ?? []).map((p) => ({ ...p, first: p.first + count }))];
    this.index = { records, packs, sampleBytes: this.sampleBytes };
  }

  private load(): SpecIndex | null {
    let names: string[];
    try {
      mkdirSync(this.dir, { recursive: true });
      names = readdirSync(this.dir).filter((n) => n.endsWith('.pack')).sort().reverse();
    } catch {
      return null;
    }
    const found: { file: string; records: Uint32Array }[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const records = readPackIndex(file, this.hash, this.sampleBytes);
      // A damaged pack never becomes valid again; one that could not be read (evicted meanwhile) is just skipped.
      if (records === 'damaged') tryRemove(file);
      else if (records) found.push({ file, records });
    }
    if (found.length === 0) return null;
    const records = new SharedArrayBuffer(found.reduce((s, p) => s + p.records.length, 0) * 4);
    const words = new Uint32Array(records);
    const packs: PackRef[] = [];
    let first = 0;
    for (const p of found) {
      words.set(p.records, first * RECORD_WORDS);
      packs.push({ file: p.file, first, count: p.records.length / RECORD_WORDS });
      first += p.records.length / RECORD_WORDS;
    }
    return { records, packs, sampleBytes: this.sampleBytes };
  }
}

function tryRemove(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Not ours to remove (permissions): it stays ignored.
  }
}
