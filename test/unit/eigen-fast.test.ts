// symmetricEigenFast (src/engine/linalg/eigen.ts) with the JavaScript reference product as its gemm: eigenvalues
// against numpy.linalg.eigvalsh on the golden matrices of scripts/eigen_golden.py (test/fixtures/eigen), eigenpairs
// against the existing symmetricEigen, and its own invariants (orthonormal eigenvectors, small residual A·V − V·Λ,
// descending order), plus a larger seeded matrix, the edge cases and the product contract.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { symmetricEigenFast } from '../../src/engine/linalg/eigen';
import { jsGemm, jsGemmSync, type Gemm } from '../../src/engine/linalg/gemm';
import { symmetricEigen, type SymmetricEigen } from '../../src/engine/scores/linalg';

// The bundle runs from dist/test/unit/; the fixtures stay in the source tree.
const DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'eigen');

interface Case { name: string; d: number; matrix: Float64Array; values: number[] }

function goldenCases(): Case[] {
  return fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const raw = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as { name: string; d: number; matrix: string; values: number[] };
    const bytes = Buffer.from(raw.matrix, 'base64');
    const matrix = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    assert.equal(matrix.length, raw.d * raw.d, `${f}: matrix size`);
    return { ...raw, matrix };
  });
}

const maxAbs = (x: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
};

/** ‖VᵀV − I‖_max and ‖A·V − V·Λ‖_max. */
function invariants(a: Float64Array, d: number, { values, vectors }: SymmetricEigen): { orthogonality: number; residual: number } {
  const gram = jsGemmSync(vectors, vectors, d, d, d, { transA: true });
  const av = jsGemmSync(a, vectors, d, d, d);
  let orthogonality = 0;
  let residual = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      orthogonality = Math.max(orthogonality, Math.abs(gram[i * d + j] - (i === j ? 1 : 0)));
      residual = Math.max(residual, Math.abs(av[i * d + j] - vectors[i * d + j] * values[j]));
    }
  }
  return { orthogonality, residual };
}

function assertDescending(values: Float64Array, label: string): void {
  for (let j = 1; j < values.length; j++) assert.ok(values[j] <= values[j - 1], `${label}: values[${j}] = ${values[j]} > values[${j - 1}] = ${values[j - 1]}`);
}

/** The eigenvectors of eigenvalues at least `gap` from every other agree up to sign; returns how many were compared. */
function assertSeparatedVectorsAgree(x: SymmetricEigen, y: SymmetricEigen, d: number, gap: number, tol: number, label: string): number {
  let compared = 0;
  for (let j = 0; j < d; j++) {
    const below = j + 1 < d ? x.values[j] - x.values[j + 1] : Infinity;
    const above = j > 0 ? x.values[j - 1] - x.values[j] : Infinity;
    if (Math.min(below, above) <= gap) continue;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += x.vectors[i * d + j] * y.vectors[i * d + j];
    const sign = dot < 0 ? -1 : 1;
    let diff = 0;
    for (let i = 0; i < d; i++) diff = Math.max(diff, Math.abs(x.vectors[i * d + j] - sign * y.vectors[i * d + j]));
    assert.ok(diff <= tol, `${label}: eigenvector ${j} (λ = ${x.values[j]}) differs from symmetricEigen's by ${diff}`);
    compared++;
  }
  return compared;
}

for (const c of goldenCases()) {
  test(`${c.name}: eigenvalues match numpy's eigvalsh, eigenpairs match symmetricEigen, V orthonormal, A·V = V·Λ`, async () => {
    const { d, matrix } = c;
    const input = Float64Array.from(matrix);
    const fast = await symmetricEigenFast(matrix, d, jsGemm);
    assert.deepEqual(matrix, input, 'the input is not modified');
    assert.equal(fast.values.length, d);
    assert.equal(fast.vectors.length, d * d);
    assertDescending(fast.values, c.name);
    const scale = maxAbs(c.values);
    for (let j = 0; j < d; j++) {
      assert.ok(Math.abs(fast.values[j] - c.values[j]) <= 1e-12 * scale, `${c.name}: λ${j} = ${fast.values[j]}, numpy ${c.values[j]}`);
    }
    const { orthogonality, residual } = invariants(matrix, d, fast);
    assert.ok(orthogonality < 1e-12 * d, `${c.name}: ‖VᵀV − I‖ = ${orthogonality}`);
    assert.ok(residual <= 1e-12 * maxAbs(matrix) * d, `${c.name}: ‖AV − VΛ‖ = ${residual}`);

    const reference = symmetricEigen(matrix, d);
    for (let j = 0; j < d; j++) {
      assert.ok(Math.abs(fast.values[j] - reference.values[j]) <= 1e-12 * scale, `${c.name}: λ${j} = ${fast.values[j]}, symmetricEigen ${reference.values[j]}`);
    }
    assertSeparatedVectorsAgree(fast, reference, d, 1e-6 * scale, 1e-9, c.name);
  });
}

/** Mulberry32: a small seeded uniform generator on [0, 1). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSymmetric(d: number, seed: number): Float64Array {
  const next = uniform(seed);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) a[i * d + j] = a[j * d + i] = 2 * next() - 1;
  return a;
}

test('d = 700 (seeded, several panels and WY blocks, deep recursion): orthonormal V, small residual, descending', async () => {
  const d = 700;
  const a = randomSymmetric(d, 700);
  const fast = await symmetricEigenFast(a, d, jsGemm);
  assertDescending(fast.values, 'd = 700');
  const { orthogonality, residual } = invariants(a, d, fast);
  assert.ok(orthogonality < 1e-12 * d, `‖VᵀV − I‖ = ${orthogonality}`);
  assert.ok(residual <= 1e-12 * maxAbs(a) * d, `‖AV − VΛ‖ = ${residual}`);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += a[i * d + i];
  assert.ok(Math.abs(fast.values.reduce((s, x) => s + x, 0) - trace) <= 1e-10 * d, 'the eigenvalues sum to the trace');
});

/** The dense form of tridiag(off, diag, off). */
function tridiagonal(diag: number[], off: number[]): Float64Array {
  const d = diag.length;
  const a = new Float64Array(d * d);
  diag.forEach((x, i) => (a[i * d + i] = x));
  off.forEach((x, i) => (a[i * d + i + 1] = a[(i + 1) * d + i] = x));
  return a;
}

test('tridiag(−1, 2, −1), d = 200: eigenvalues 2 − 2·cos(kπ/(d+1)) to 1e-13, orthonormal V, small residual', async () => {
  const d = 200;
  const a = tridiagonal(new Array(d).fill(2), new Array(d - 1).fill(-1));
  const fast = await symmetricEigenFast(a, d, jsGemm);
  for (let j = 0; j < d; j++) {
    const exact = 2 - 2 * Math.cos(((d - j) * Math.PI) / (d + 1));
    assert.ok(Math.abs(fast.values[j] - exact) <= 1e-13, `λ${j} = ${fast.values[j]}, exactly ${exact}`);
  }
  const { orthogonality, residual } = invariants(a, d, fast);
  assert.ok(orthogonality < 1e-12 * d && residual <= 1e-12 * 2 * d, `‖VᵀV − I‖ = ${orthogonality}, ‖AV − VΛ‖ = ${residual}`);
});

test('glued Wilkinson matrices (ten W21+ coupled by 1e-14; clusters of near-equal eigenvalues): V orthonormal, A·V = V·Λ', async () => {
  const blocks = 10;
  const diag = Array.from({ length: 21 * blocks }, (_, i) => Math.abs(10 - (i % 21)));
  const off = Array.from({ length: 21 * blocks - 1 }, (_, i) => (i % 21 === 20 ? 1e-14 : 1));
  const d = diag.length;
  const a = tridiagonal(diag, off);
  const fast = await symmetricEigenFast(a, d, jsGemm);
  assertDescending(fast.values, 'glued Wilkinson');
  const reference = symmetricEigen(a, d);
  for (let j = 0; j < d; j++) assert.ok(Math.abs(fast.values[j] - reference.values[j]) <= 1e-12 * 11, `λ${j} = ${fast.values[j]}, symmetricEigen ${reference.values[j]}`);
  const { orthogonality, residual } = invariants(a, d, fast);
  assert.ok(orthogonality < 1e-12 * d && residual <= 1e-12 * 10 * d, `‖VᵀV − I‖ = ${orthogonality}, ‖AV − VΛ‖ = ${residual}`);
});

test('the O(d³) products go through the supplied gemm, each called with operands of exactly the stated shapes', async () => {
  const d = 300;
  const a = randomSymmetric(d, 300);
  let delegated = 0;
  const counting: Gemm = async (x, y, m, k, n, opts) => {
    assert.equal(x.length, m * k, 'A holds exactly m·k entries');
    assert.equal(y.length, k * n, 'B holds exactly k·n entries');
    delegated += m * k * n;
    return jsGemm(x, y, m, k, n, opts);
  };
  const fast = await symmetricEigenFast(a, d, counting);
  const plain = await symmetricEigenFast(a, d, jsGemm);
  assert.deepEqual(fast, plain, 'the same result whichever gemm computes it');
  assert.ok(delegated >= 2 * d ** 3, `only ${(delegated / d ** 3).toFixed(2)}·d³ multiply-adds went through gemm`);
});

test('only the lower triangle is read, as numpy.linalg.eigh', async () => {
  const d = 40;
  const a = randomSymmetric(d, 40);
  const lower = Float64Array.from(a);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) lower[i * d + j] = 1e6 * (i - j);
  assert.deepEqual(await symmetricEigenFast(lower, d, jsGemm), await symmetricEigenFast(a, d, jsGemm));
});

test('scaling by a power of two scales the eigenvalues exactly, far into overflow and underflow range', async () => {
  const d = 20;
  const a = randomSymmetric(d, 20);
  const base = await symmetricEigenFast(a, d, jsGemm);
  for (const p of [1000, -1000]) {
    const scaled = await symmetricEigenFast(a.map((x) => x * 2 ** p), d, jsGemm);
    assert.deepEqual(scaled.values, base.values.map((x) => x * 2 ** p), `2^${p}`);
    assert.deepEqual(scaled.vectors, base.vectors, `2^${p}`);
  }
});

test('d = 0 gives empty results; a non-finite entry or a short matrix is an error', async () => {
  assert.deepEqual(await symmetricEigenFast(new Float64Array(0), 0, jsGemm), { values: new Float64Array(0), vectors: new Float64Array(0) });
  for (const bad of [NaN, Infinity, -Infinity]) {
    const a = randomSymmetric(4, 4);
    a[9] = bad;
    await assert.rejects(symmetricEigenFast(a, 4, jsGemm), /non-finite entry/);
  }
  await assert.rejects(symmetricEigenFast(new Float64Array(8), 3, jsGemm), /needs 9 entries/);
});
