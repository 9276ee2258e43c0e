// Would float16 logits change the report? Builds the report twice from the same precomputed logits, as they are
// (float32) and rounded to float16 (IEEE round to nearest even, what `--store-logits f16` would keep), and prints
// the largest difference of each metric as one JSON line:
//   node dist/bench/imagenet-f16.js --split id=DIR --split ood=DIR [--split calib=DIR]
// Each DIR holds logits.npy (float32) and labels.npy; the rounded copies go to a temporary folder.
import { parseArgs } from 'node:util';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runScore } from '../src/engine/run';
import type { Report } from '../src/engine/report/types';

/** The float16 value nearest to x (ties to even), as a number; ±Infinity past float16's range. */
export function f16round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const abs = Math.abs(x);
  if (abs >= 65520) return Math.sign(x) * Infinity;
  // Spacing of float16 values near x: 2^(e − 10) for normal numbers, 2^−24 below 2^−14 (subnormals).
  const ulp = 2 ** (Math.max(Math.floor(Math.log2(abs)), -14) - 10);
  const q = abs / ulp;
  let r = Math.round(q);
  if (r - q === 0.5 && r % 2 === 1) r -= 1;
  return Math.sign(x) * r * ulp;
}

/** Index of the first largest value of row r. */
function argmax(data: Float32Array, r: number, k: number): number {
  let best = r * k;
  for (let j = r * k + 1; j < (r + 1) * k; j++) if (data[j] > data[best]) best = j;
  return best - r * k;
}

/**
 * Rounds a float32 .npy file [N, K] (C order) to float16 values, written back as float32. Returns the range of its
 * values and how many rows' first argmax (the prediction) changed: rounding can make ties.
 */
function roundNpy(src: string, dst: string): { lo: number; hi: number; rows: number; flips: number } {
  const buf = readFileSync(src);
  const start = 10 + buf.readUInt16LE(8);
  const k = Number(/'shape':\s*\(\d+,\s*(\d+)\)/.exec(buf.toString('latin1', 10, start))?.[1]);
  if (!k || buf.byteOffset % 4 || start % 4) throw new Error(`${src}: expected an aligned float32 [N, K] array`);
  const data = new Float32Array(buf.buffer, buf.byteOffset + start, (buf.length - start) / 4);
  const out = { lo: Infinity, hi: -Infinity, rows: data.length / k, flips: 0 };
  for (let r = 0; r < out.rows; r++) {
    const before = argmax(data, r, k);
    for (let i = r * k; i < (r + 1) * k; i++) {
      [out.lo, out.hi] = [Math.min(out.lo, data[i]), Math.max(out.hi, data[i])];
      data[i] = f16round(data[i]);
    }
    if (argmax(data, r, k) !== before) out.flips++;
  }
  writeFileSync(dst, buf);
  return out;
}

const METRICS = ['ood', 'calibration', 'thresholds', 'selective', 'conformal', 'calibrators'] as const;

/**
 * Every numeric leaf of the metric sections, keyed by its path with array indices dropped (e.g. `ood.auroc`). Curves
 * (one point per distinct confidence) and reliability bins (the non-empty ones) are left out: rounding can change
 * how many there are.
 */
function leaves(report: Report): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const walk = (v: unknown, key: string) => {
    if (key.endsWith('.curve') || key.endsWith('.bins')) return;
    if (typeof v === 'number') out.set(key, out.get(key) ?? []).get(key)!.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${key}.${k}`);
  };
  for (const s of METRICS) walk(report[s], s);
  return out;
}

/** The largest difference of every metric between reports from `splits` (role → folder) as they are and rounded. */
export async function compareF16(splits: Record<string, string>) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'oodlens-f16-'));
  try {
    // Logits and labels only, in both copies: features.npy or W.npy beside them would add feature methods.
    const [asIs, rounded]: Record<string, string>[] = [{}, {}];
    const stats = { lo: Infinity, hi: -Infinity, rows: 0, flips: 0 };
    for (const [role, dir] of Object.entries(splits)) {
      for (const [copy, name] of [[asIs, 'f32'], [rounded, 'f16']] as const) {
        copy[role] = path.join(tmp, name, role);
        mkdirSync(copy[role], { recursive: true });
        if (existsSync(path.join(dir, 'labels.npy'))) copyFileSync(path.join(dir, 'labels.npy'), path.join(copy[role], 'labels.npy'));
      }
      copyFileSync(path.join(dir, 'logits.npy'), path.join(asIs[role], 'logits.npy'));
      const r = roundNpy(path.join(dir, 'logits.npy'), path.join(rounded[role], 'logits.npy'));
      Object.assign(stats, { lo: Math.min(stats.lo, r.lo), hi: Math.max(stats.hi, r.hi), rows: stats.rows + r.rows, flips: stats.flips + r.flips });
    }
    const run = (s: Record<string, string>) => runScore({ models: [], id: s.id, ood: [s.ood], calib: s.calib, precomputedName: 'm' });
    const [full, half] = [leaves(await run(asIs)), leaves(await run(rounded))];
    const maxDiff: Record<string, number> = {};
    for (const [key, xs] of full) {
      const ys = half.get(key) ?? [];
      if (ys.length !== xs.length) throw new Error(`${key}: ${xs.length} values in float32, ${ys.length} in float16`);
      maxDiff[key] = xs.reduce((m, x, i) => Math.max(m, Number.isNaN(x) && Number.isNaN(ys[i]) ? 0 : Math.abs(x - ys[i])), 0);
    }
    return { logits: stats, accuracy: full.get('calibration.accuracy')?.[0] ?? null, maxDiff };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Run as a script (not when bundled into a test, where `require.main === module` would hold too).
if (path.basename(process.argv[1] ?? '') === 'imagenet-f16.js') {
  const { values } = parseArgs({ options: { split: { type: 'string', multiple: true } } });
  compareF16(Object.fromEntries((values.split ?? []).map((s) => s.split('=') as [string, string]))).then(
    (r) => (process.stdout.write(JSON.stringify(r) + '\n'), process.exit(0)),
    (e) => (process.stderr.write(`bench: ${e instanceof Error ? e.stack : e}\n`), process.exit(1)),
  );
}
