// Issue 15, fast re-runs: the preprocessed-image cache (src/engine/cache). A re-run over unchanged images reads
// their pixels from the cache and gives the report an uncached run gives; anything changed, damaged or evicted is
// decoded again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { runScore, type RunOptions } from '../../src/engine/run';
import { reportJson } from '../../src/engine/report/write';
import type { Report } from '../../src/engine/report/types';
import { evict } from '../../src/engine/cache/eviction';
import { RECORD_WORDS, compareKeys, readPackIndex } from '../../src/engine/cache/pack-format';
import { PackWriter } from '../../src/engine/cache/pack-writer';
import { cacheOption, parseCli } from '../../src/cli/args';
import { parseConfig } from '../../src/engine/config';
import { buildLinearModel } from '../helpers/onnx-builder';
import { pixels, scratchDirs, weights, writeFile, writePng } from '../helpers/fixtures';

const scratch = scratchDirs();
/** Images get this modification time (whole seconds, so that it can be set again exactly after a rewrite). */
const MTIME = 1_600_000_000;

/** 6×6 images (resized to the model's 4×4): 12 gray PNGs and 2 RGB JPEGs (decoded by sharp) as ID, 5 PNGs as OOD. */
async function fixture() {
  const dir = await scratch('oodlens-cache-');
  const model = (name: string, seed: number) => {
    const file = path.join(dir, `${name}.onnx`);
    writeFile(file, buildLinearModel({ inputShape: ['N', 1, 4, 4], W: weights(3 * 16, seed), b: [0.1, -0.2, 0.05], metadata: { classes: '["a","b","c"]' } }));
    return file;
  };
  let i = 0;
  for (const cls of ['a', 'b', 'c']) for (let j = 0; j < 4; j++) await writePng(path.join(dir, 'id', cls, `${j}.png`), pixels(i++, 6, 6, 1), 6, 6, 1);
  for (let j = 0; j < 2; j++) {
    await sharp(Buffer.from(pixels(50 + j, 6, 6, 3)), { raw: { width: 6, height: 6, channels: 3 } }).jpeg().toFile(path.join(dir, 'id', 'a', `photo${j}.jpg`));
  }
  for (let j = 0; j < 5; j++) await writePng(path.join(dir, 'ood', 'x', `${j}.png`), pixels(100 + j, 6, 6, 1), 6, 6, 1);
  const images = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /\.(png|jpg)$/.test(e.name)).map((e) => path.join(e.parentPath, e.name));
  for (const f of images) utimesSync(f, MTIME, MTIME);
  const cache = path.join(dir, 'cache');
  const options = (model: string, extra: Partial<RunOptions> = {}): RunOptions => ({ models: [model], id: path.join(dir, 'id'), ood: [path.join(dir, 'ood')], batchSize: 5, ...extra });
  return { dir, images, cache, modelA: model('a', 3), modelB: model('b', 7), options, withCache: { cache: { dir: cache, maxBytes: 2 ** 20 } } };
}

/** The report without what differs between two runs of the same thing: timings and the cache's own counts. */
function numbers(r: Report): string {
  const { createdAt: _c, durationMs: _d, cache: _k, ...rest } = r;
  return JSON.stringify(rest);
}

function schema(file: string) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'schemas', file), 'utf8')));
}

const cacheOf = (r: Report) => r.cache as { hits: number; misses: number; stored: number };

function packs(cache: string): string[] {
  const root = path.join(cache, 'v1');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((spec) => readdirSync(path.join(root, spec)).filter((n) => n.endsWith('.pack')).map((n) => path.join(root, spec, n)));
}

test('a re-run with another model and other normalization reads every image from the cache: same report, nothing decoded', async () => {
  const f = await fixture();
  const normB = { preprocess: { mean: [0.5], std: [0.25] } };
  const refA = await runScore(f.options(f.modelA));
  const refB = await runScore(f.options(f.modelB, normB));
  const first = await runScore(f.options(f.modelA, f.withCache));
  assert.equal(numbers(first), numbers(refA));
  assert.deepEqual(cacheOf(first), { dir: f.cache, hits: 0, misses: 19, stored: 19 });
  const validate = schema('report.schema.json');
  assert.ok(validate(JSON.parse(reportJson(first))), JSON.stringify(validate.errors?.slice(0, 3)));

  // Every image is replaced by noise of the same size and time: a decode would now fail, a cache hit cannot.
  for (const file of f.images) {
    writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    utimesSync(file, MTIME, MTIME);
  }
  await assert.rejects(runScore(f.options(f.modelA)), /could be read/);
  const before = Date.now();
  const second = await runScore(f.options(f.modelB, { ...normB, ...f.withCache }));
  assert.equal(numbers(second), numbers(refB));
  assert.deepEqual(cacheOf(second), { dir: f.cache, hits: 19, misses: 0, stored: 0 });
  // The packs that served the run are now the most recently used.
  for (const p of packs(f.cache)) assert.ok(statSync(p).mtimeMs >= before - 1000, `${p} touched`);
});

test('a file changed since it was cached is decoded again', async () => {
  const f = await fixture();
  await runScore(f.options(f.modelA, f.withCache));
  const changed = f.images.find((p) => p.endsWith(path.join('b', '2.png')))!;
  await writePng(changed, pixels(77, 6, 6, 1), 6, 6, 1);
  utimesSync(changed, MTIME + 10, MTIME + 10);
  const ref = await runScore(f.options(f.modelA));
  const rerun = await runScore(f.options(f.modelA, f.withCache));
  assert.equal(numbers(rerun), numbers(ref));
  assert.deepEqual(cacheOf(rerun), { dir: f.cache, hits: 18, misses: 1, stored: 1 });
  // Touched only (same bytes, new time): decoded again too.
  utimesSync(changed, MTIME + 20, MTIME + 20);
  assert.deepEqual(cacheOf(await runScore(f.options(f.modelA, f.withCache))), { dir: f.cache, hits: 18, misses: 1, stored: 1 });
  // Written just now: decoded but not stored (a second write in the same timestamp tick could go unnoticed).
  await writePng(changed, pixels(78, 6, 6, 1), 6, 6, 1);
  assert.deepEqual(cacheOf(await runScore(f.options(f.modelA, f.withCache))), { dir: f.cache, hits: 18, misses: 1, stored: 0 });
});

test('other preprocessing does not read the pixels cached for another', async () => {
  const f = await fixture();
  await runScore(f.options(f.modelA, f.withCache));
  const nearest = { preprocess: { interpolation: 'nearest' as const } };
  const ref = await runScore(f.options(f.modelA, nearest));
  assert.notEqual(numbers(ref), numbers(await runScore(f.options(f.modelA))), 'nearest and bilinear differ on these images');
  const rerun = await runScore(f.options(f.modelA, { ...nearest, ...f.withCache }));
  assert.equal(numbers(rerun), numbers(ref));
  assert.equal(cacheOf(rerun).hits, 0);
  assert.equal(cacheOf(await runScore(f.options(f.modelA, { ...nearest, ...f.withCache }))).hits, 19);
});

test('a damaged cache costs decodes, never wrong pixels or a crash', async () => {
  const f = await fixture();
  const ref = await runScore(f.options(f.modelA));
  await runScore(f.options(f.modelA, f.withCache));
  const written = packs(f.cache);
  assert.equal(written.length, 2, 'one pack per split');
  // One entry's pixels changed in each pack: those two entries fail their checksum.
  for (const p of written) {
    const bytes = readFileSync(p);
    bytes[64] ^= 0xff;
    writeFileSync(p, bytes);
  }
  const flipped = await runScore(f.options(f.modelA, f.withCache));
  assert.equal(numbers(flipped), numbers(ref));
  assert.deepEqual(cacheOf(flipped), { dir: f.cache, hits: 17, misses: 2, stored: 2 });
  // Truncated packs and a stray file that only looks like a pack: ignored, and the damaged ones removed.
  for (const p of packs(f.cache)) truncateSync(p, statSync(p).size - 10);
  writeFile(path.join(path.dirname(written[0]), 'stray.pack'), 'not a pack');
  const truncated = await runScore(f.options(f.modelA, f.withCache));
  assert.equal(numbers(truncated), numbers(ref));
  assert.deepEqual(cacheOf(truncated), { dir: f.cache, hits: 0, misses: 19, stored: 19 });
  const left = packs(f.cache);
  assert.equal(left.length, 2);
  for (const p of left) assert.ok(readPackIndex(p, readFileSync(p).subarray(16, 32), 16) instanceof Uint32Array, `${p} is valid`);
});

test('a cache folder that cannot be written costs a warning, not the run', async () => {
  const f = await fixture();
  const blocked = path.join(f.dir, 'a-file');
  writeFile(blocked, 'not a folder');
  const ref = await runScore(f.options(f.modelA));
  const r = await runScore(f.options(f.modelA, { cache: { dir: path.join(blocked, 'cache'), maxBytes: 2 ** 20 } }));
  assert.equal(JSON.stringify(r.ood), JSON.stringify(ref.ood));
  assert.equal(cacheOf(r).stored, 0);
  assert.match(r.warnings.join('\n'), /a-file.cache: cannot write .*ENOTDIR/);
});

test('eviction keeps the cache under its cap, least recently used packs first', async () => {
  const root = await scratch('oodlens-evict-');
  const spec = path.join(root, 'v1', 'spec');
  mkdirSync(spec, { recursive: true });
  const now = Date.now() / 1000;
  const put = (name: string, size: number, age: number) => {
    writeFileSync(path.join(spec, name), Buffer.alloc(size));
    utimesSync(path.join(spec, name), now - age, now - age);
  };
  put('old.pack', 100, 300);
  put('used-recently.pack', 100, 10);
  put('middle.pack', 100, 100);
  put('abandoned.pack.tmp', 100, 7200);
  put('being-written.pack.tmp', 100, 5);
  assert.equal(await evict(root, 250), 200);
  assert.deepEqual(readdirSync(spec).sort(), ['being-written.pack.tmp', 'middle.pack', 'used-recently.pack']);

  // A run whose images do not all fit stores what fits, and leaves the cache within the cap.
  const f = await fixture();
  const ref = await runScore(f.options(f.modelA));
  const capped = await runScore(f.options(f.modelA, { cache: { dir: f.cache, maxBytes: 400 } }));
  assert.equal(numbers(capped), numbers(ref));
  assert.ok(cacheOf(capped).stored > 0 && cacheOf(capped).stored < 19, `stored ${cacheOf(capped).stored}`);
  assert.ok(packs(f.cache).reduce((s, p) => s + statSync(p).size, 0) <= 400);
});

test('two processes filling one cache at once leave it whole and readable', { timeout: 120_000 }, async () => {
  const f = await fixture();
  const cli = path.join(__dirname, '..', '..', 'cli.js');
  const run = () => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [cli, 'score', '--model', f.modelA, '--id', path.join(f.dir, 'id'), '--ood', path.join(f.dir, 'ood'), '--cache', f.cache, '--quiet'], { stdio: 'ignore' });
    child.on('exit', resolve);
  });
  assert.deepEqual(await Promise.all([run(), run()]), [0, 0]);
  // A pack per split and process when they overlap; a split one process finished before the other reached it is
  // all hits for the second, which writes no pack for it. Either way the cache must be whole.
  const written = packs(f.cache).length;
  assert.ok(written >= 2 && written <= 4, `${written} packs`);
  for (const p of packs(f.cache)) assert.ok(readPackIndex(p, readFileSync(p).subarray(16, 32), 16) instanceof Uint32Array, `${p} is valid`);
  const ref = await runScore(f.options(f.modelA));
  const rerun = await runScore(f.options(f.modelA, f.withCache));
  assert.equal(numbers(rerun), numbers(ref));
  assert.deepEqual(cacheOf(rerun), { dir: f.cache, hits: 19, misses: 0, stored: 0 });
});

test('a pack holds every entry under its key, the index sorted by the whole key (first words shared)', async () => {
  const dir = await scratch('oodlens-pack-');
  const spec = new Uint8Array(16).fill(7);
  const w = new PackWriter(dir, 3, spec);
  const key = (i: number) => Uint8Array.from({ length: 16 }, (_, b) => (b < 4 ? i % 3 : (i * 31 + b * 7) % 256));
  for (let i = 0; i < 300; i += 50) w.add(Array.from({ length: 50 }, (_, k) => ({ key: key(i + k), pixels: Uint8Array.of(i + k, 1, 2) })));
  const pack = await w.finish();
  assert.ok(pack);
  const read = readPackIndex(pack.file, spec, 3);
  assert.ok(read instanceof Uint32Array);
  const records: Uint32Array = read;
  assert.deepEqual(records, pack.records);
  const bytes = readFileSync(pack.file);
  for (let r = 0; r < 300; r++) {
    if (r > 0) assert.ok(compareKeys(records, (r - 1) * RECORD_WORDS, records, r * RECORD_WORDS) < 0, `sorted at ${r}`);
    const slot: number = records[r * RECORD_WORDS + 4];
    const k: Uint8Array = new Uint8Array(records.buffer, r * RECORD_WORDS * 4, 16);
    assert.deepEqual([...k], [...key(slot)]);
    assert.equal(bytes[64 + slot * 3], slot % 256);
  }
  assert.equal(readPackIndex(pack.file, new Uint8Array(16), 3), 'damaged', 'another spec');
});

test('--cache, --cache-max-mb and the config keys make RunOptions.cache', () => {
  assert.deepEqual(cacheOption(parseCli(['score', '--cache', 'c', '--cache-max-mb', '10']), undefined), { dir: 'c', maxBytes: 10 * 2 ** 20 });
  assert.equal(cacheOption(parseCli(['score']), undefined), undefined);
  assert.throws(() => cacheOption(parseCli(['score', '--cache-max-mb', '10']), undefined), /needs --cache DIR/);
  assert.throws(() => parseCli(['score', '--cache', 'c', '--cache-max-mb', '0']), /positive integer/);
  const config = '{"models": ["m.onnx"], "id": "d", "cache": ".oodlens/cache", "cacheMaxMB": 64}';
  assert.ok(schema('oodlens.schema.json')(JSON.parse(config)));
  const parsed = parseConfig(config, '/w/oodlens.json');
  assert.deepEqual(parsed.options?.cache, { dir: path.resolve('/w/.oodlens/cache'), maxBytes: 64 * 2 ** 20 });
  assert.match(parseConfig('{"models": ["m.onnx"], "id": "d", "cacheMaxMB": 64}', '/w/oodlens.json').issues[0].message, /needs "cache"/);
  assert.deepEqual(cacheOption(parseCli(['score', '--cache-max-mb', '8']), parsed.options?.cache), { dir: path.resolve('/w/.oodlens/cache'), maxBytes: 8 * 2 ** 20 });
});
