// Issue 7, CLI: bad input exits with 1 and exactly one line on stderr, no stack trace. Also case 15 for real:
// a file that a non-root user cannot read is skipped as "permission denied" (runs when setpriv and root are there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageFolder, tempDir, writeFile } from '../helpers/fixtures';
import { buildModel } from '../helpers/onnx-builder';
import { allBadFolder, badFilesFolder, models, SIZE } from '../hostile/generate';

/** dist/cli.js, next to the bundles (tests run from dist/test/unit). */
const CLI = path.resolve(__dirname, '..', '..', 'cli.js');

function cli(args: string[], opts: { as?: number } = {}) {
  const argv = opts.as === undefined ? [CLI, ...args] : ['--reuid', String(opts.as), '--regid', String(opts.as), '--clear-groups', process.execPath, CLI, ...args];
  const r = spawnSync(opts.as === undefined ? process.execPath : 'setpriv', argv, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, OOD_LENS_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad input on the command line: exit code 1, one line on stderr, no stack trace', { timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const id = path.join(t.dir, 'id');
    await imageFolder(id, ['a', 'b'], 3, SIZE, SIZE, 1);
    const allBad = allBadFolder(path.join(t.dir, 'all-bad'));
    const liar = path.join(t.dir, 'liar.onnx');
    writeFile(liar, buildModel([{ op: 'Identity', inputs: ['input'], outputs: ['logits'] }], [{ name: 'input', shape: ['N', 1, SIZE, SIZE] }], [{ name: 'logits', shape: ['N', 16] }]));
    const badJson = path.join(t.dir, 'broken.json');
    writeFile(badJson, '{ "id": "id", "models": ["m.onnx"],, }');
    const badTypes = path.join(t.dir, 'types.json');
    writeFile(badTypes, '{ "id": "id", "models": ["m.onnx"], "batchSize": "big" }');
    const aFile = path.join(t.dir, 'a-file');
    writeFile(aFile, 'x');
    const score = (...rest: string[]) => ['score', ...rest];
    // Failures found after scoring started follow the progress lines (non-TTY stderr): those run with --quiet.
    const late = (...rest: string[]) => ['score', '--quiet', ...rest];
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^ood-lens: Unknown command "frobnicate" \(see ood-lens --help\)$/],
      [score('--model', m.classifier, '--id', id, '--colour', 'red'), /^ood-lens: Unknown option '--colour'.* \(see ood-lens --help\)$/],
      [score('--model', m.classifier, '--id', id, '--batch-size', 'lots'), /^ood-lens: --batch-size expects an integer, got "lots"$/],
      [score('--model', m.classifier), /^ood-lens: No ID folder: give --id DIR/],
      [score('--id', id), /^ood-lens: No model given/],
      [score('--model', m.notOnnx, '--id', id), /^ood-lens: Not an ONNX model( \(no graph\))?: /],
      [score('--model', path.join(t.dir, 'nope.onnx'), '--id', id), /^ood-lens: Model file not found: /],
      [score('--model', m.twoInputs, '--id', id), /^ood-lens: Model two-inputs\.onnx has 2 inputs/],
      [score('--model', m.output4d, '--id', id), /^ood-lens: Model output-4d\.onnx has no 2-D \[N,K\] classifier output/],
      [late('--model', liar, '--id', id), /^ood-lens: model liar returned output "logits" of shape \[6,1,4,4\] for a batch of 6$/],
      [score('--model', m.classifier, '--id', path.join(t.dir, 'missing')), /^ood-lens: Folder not found: /],
      [score('--model', m.classifier, '--id', aFile), /^ood-lens: Not a folder: /],
      [late('--model', m.classifier, '--id', id, '--ood', allBad), /^ood-lens: Split "all-bad" \(.*\): none of its 2 files could be read \(first: .*empty\.png: empty file \(0 bytes\)\)$/],
      [score('--config', badJson), /^ood-lens: .*broken\.json: Invalid JSON at line 1, column 36: property name expected( \(and \d+ more\))?$/],
      [score('--config', badTypes), /^ood-lens: .*types\.json \/batchSize: "batchSize" must be an integer$/],
      [score('--config', path.join(t.dir, 'none.json')), /^ood-lens: Config file not found: /],
      [late('--model', m.classifier, '--id', id, '--json', path.join(aFile, 'r.json')), /^ood-lens: Cannot write .*: part of the folder path is a file \(the previous file, if any, is unchanged\)$/],
    ];
    for (const [args, line] of cases) {
      const r = cli(args);
      const label = args.filter((a) => !a.startsWith('/')).join(' ');
      assert.equal(r.code, 1, `${label}: exit code (stderr: ${r.stderr})`);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `${label}: stderr has one line:\n${r.stderr}`);
      assert.match(lines[0], line, label);
      assert.doesNotMatch(r.stderr, /\n\s+at |unexpected error/, label);
    }
  } finally {
    t.cleanup();
  }
});

test('an execution provider that is not installed falls back to CPU: exit 0, a warning in the summary, nothing on stderr', { timeout: 60_000 }, async () => {
  const t = tempDir();
  try {
    const m = models(path.join(t.dir, 'models'));
    const id = path.join(t.dir, 'id');
    await imageFolder(id, ['a', 'b'], 3, SIZE, SIZE, 1);
    const r = cli(['score', '--quiet', '--model', m.classifier, '--id', id, '--ep', 'cuda']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^OOD Lens · classifier \(cpu\)/);
    assert.match(r.stdout, /\nwarning: classifier: execution provider cuda: .+; fell back to cpu\n/);
  } finally {
    t.cleanup();
  }
});

test('a file other users cannot read is skipped as "permission denied" when the CLI runs as one of them', { timeout: 60_000 }, async (ctx) => {
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
    ctx.skip('needs root and setpriv to run the CLI as another user');
    return;
  }
  const t = tempDir();
  try {
    fs.chmodSync(t.dir, 0o755);
    const m = models(path.join(t.dir, 'models'));
    const bad = await badFilesFolder(path.join(t.dir, 'bad-files'));
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out, { mode: 0o777 });
    fs.chmodSync(out, 0o777);
    const json = path.join(out, 'report.json');
    const r = cli(['score', '--quiet', '--model', m.classifier, '--id', bad.root, '--json', json], { as: 65534 });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    const skipped = report.splits[0].skipped as { path: string; reason: string }[];
    assert.deepEqual(skipped.find((s) => s.path === bad.locked), { path: bad.locked, reason: 'permission denied' });
    assert.equal(report.splits[0].count, bad.good.length);
    assert.match(r.stdout, new RegExp(`Splits: bad-files \\[id\\] 8 \\(\\+${bad.bad.length + 1} skipped\\)`), 'the bad files and the locked one');
  } finally {
    t.cleanup();
  }
});
