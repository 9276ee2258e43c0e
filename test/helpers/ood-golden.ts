// Runs a MethodSpec on the shared golden inputs (test/fixtures/ood/inputs.json) the way a run does — the fit split
// streamed in batches of uneven size, then the test rows in batches — and compares with the float64 reference
// scores of scripts/ood_golden/ (test/fixtures/ood/<method>.json).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after } from 'node:test';
import type { Batch, MethodSpec } from '../../src/engine/ood/method';
import { jsDense, OrtDense, type Dense } from '../../src/engine/linalg/dense';

// The engine a run uses (onnxruntime on the dense thread), one per test file; its thread starts at the first call
// and is closed after the file's tests.
const ort = new OrtDense();
after(() => ort.close());
export const ortDense = (): Dense => ort;

/** Both engines: checks run on each. */
export const engines = (): [string, Dense][] => [['js', jsDense()], ['onnxruntime', ortDense()]];

const DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'ood');

interface GoldenCase {
  name: string; d: number; k: number; W: number[]; b: number[];
  fit: { features: number[]; logits: number[]; labels: number[] };
  test: { features: number[]; logits: number[] };
}

export const goldenInputs = (): GoldenCase[] => JSON.parse(fs.readFileSync(path.join(DIR, 'inputs.json'), 'utf8')).cases;

function batches(features: Float32Array, logits: Float32Array, labels: Int32Array, d: number, k: number, sizes: number[]): Batch[] {
  const out: Batch[] = [];
  const n = logits.length / k;
  for (let start = 0, i = 0; start < n; i++) {
    const m = Math.min(sizes[i % sizes.length], n - start);
    out.push({ features: features.subarray(start * d, (start + m) * d), logits: logits.subarray(start * k, (start + m) * k), labels: labels.subarray(start, start + m), n: m });
    start += m;
  }
  return out;
}

/** Scores of `spec` on every golden case, with `params` over its defaults. */
export async function runGolden(spec: MethodSpec, params: Record<string, number> = {}, dense: Dense = jsDense()): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>();
  for (const c of goldenInputs()) {
    const { d, k } = c;
    const layer = { W: Float32Array.from(c.W), b: Float32Array.from(c.b), k, d };
    const det = spec.create({ d, k, layer, params: { ...spec.defaults, ...params }, dense });
    for (const b of batches(Float32Array.from(c.fit.features), Float32Array.from(c.fit.logits), Int32Array.from(c.fit.labels), d, k, [37, 64, 5])) await det.fit?.(b);
    await det.finish?.();
    const testN = c.test.logits.length / k;
    const parts: Float64Array[] = [];
    for (const b of batches(Float32Array.from(c.test.features), Float32Array.from(c.test.logits), new Int32Array(testN).fill(-1), d, k, [7, 16])) parts.push(await det.score(b));
    const all = new Float64Array(testN);
    let at = 0;
    for (const p of parts) all.set(p, (at += p.length) - p.length);
    out.set(c.name, all);
  }
  return out;
}

/**
 * Asserts every score within `rel` relative (and 1e-12 absolute) of the golden file, NaN where it has null, with
 * both engines.
 */
export async function assertGolden(spec: MethodSpec, golden = spec.name, rel = 1e-9, params?: Record<string, number>): Promise<void> {
  const want = JSON.parse(fs.readFileSync(path.join(DIR, `${golden}.json`), 'utf8')) as { params: Record<string, number>; scores: Record<string, (number | null)[]> };
  for (const [engine, dense] of engines()) {
    const got = await runGolden(spec, params ?? want.params, dense);
    for (const [name, expected] of Object.entries(want.scores)) {
      const mine = got.get(name)!;
      const what = `${golden}/${name} (${engine})`;
      assert.equal(mine.length, expected.length, `${what}: number of scores`);
      expected.forEach((e, i) => {
        if (e === null) return assert.ok(Number.isNaN(mine[i]), `${what}[${i}]: expected NaN, got ${mine[i]}`);
        const tol = rel * Math.abs(e) + 1e-12;
        assert.ok(Math.abs(mine[i] - e) <= tol, `${what}[${i}]: ${mine[i]} vs ${e} (|Δ| ${Math.abs(mine[i] - e).toExponential(2)})`);
      });
    }
  }
}
