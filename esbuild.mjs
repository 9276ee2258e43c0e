// Builds every bundle: extension host, CLI, inference and decoding workers, webview, and (with --tests) the unit tests and benches.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const production = args.has('--production');

// Native addons stay outside the bundles: they are loaded lazily from node_modules.
const nodeExternals = ['vscode', 'onnxruntime-node', 'sharp', 'playwright-core', '@duckdb/node-api'];

function findFiles(dir, pattern) {
  let out = [];
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(findFiles(p, pattern));
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: nodeExternals,
  // jsonc-parser's UMD entry hides its requires from the bundler; its ESM build bundles cleanly.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

const configs = [
  { ...node, entryPoints: { extension: 'src/extension.ts', worker: 'src/engine/inference/worker.ts', 'decode-worker': 'src/engine/image/decode-worker.ts', 'dense-worker': 'src/engine/linalg/dense-worker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    logLevel: 'warning',
  },
  {
    // The notebook renderer: an ES module (VS Code imports it and calls its exported `activate`), with the report's
    // CSS inlined, since it draws into each output's shadow root.
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    sourcemap: !production,
    minify: production,
    entryPoints: { renderer: 'webview/notebook-renderer.ts' },
    define: { OODLENS_REPORT_CSS: JSON.stringify(readFileSync('media/report.css', 'utf8')) },
    outdir: 'dist',
    logLevel: 'warning',
  },
];

if (args.has('--tests')) {
  rmSync('dist/test', { recursive: true, force: true });
  const tests = findFiles('test', /\.test\.ts$/);
  configs.push({ ...node, entryPoints: tests, outdir: 'dist/test', outbase: 'test' });
}
const benches = findFiles('bench', /\.ts$/);
if (benches.length) configs.push({ ...node, entryPoints: benches, outdir: 'dist/bench', outbase: 'bench' });
const e2e = findFiles('test/e2e', /\.e2e\.ts$/);
// Test bundles stay readable (no minification, inline source maps) so failures point at the test's lines.
if (args.has('--e2e') && e2e.length) configs.push({ ...node, minify: false, sourcemap: 'inline', entryPoints: e2e, outdir: 'dist/e2e', outbase: 'test/e2e' });

if (watch) {
  for (const c of configs) await (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}
