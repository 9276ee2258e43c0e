// The notebook helper (python/oodlens_notebook.py) against the engine: the same fixed logits, written as a
// precomputed run (logits.npy + labels.npy per split), must give the same numbers in both, and the helper's report
// must validate against schemas/report.schema.json. Runs Debian's /usr/bin/python3 (numpy only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { runScore } from '../../src/engine/run';
import { reportJson } from '../../src/engine/report/write';
import { CONVENTIONS } from '../../src/engine/analysis/conventions';
import { REPORT_SCHEMA_VERSION, type Report } from '../../src/engine/report/types';
import { repoRoot } from '../helpers/report-fixture';
import { tempDir } from '../helpers/fixtures';

const PYTHON = '/usr/bin/python3';
const root = repoRoot();
const helperDir = path.join(root, 'python');
const pythonReady = existsSync(PYTHON) && (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !pythonReady && `${PYTHON} with numpy is not installed`;

// Seeded logits with what real outputs have: confident and unsure rows, exact duplicates (tied scores across
// splits), a split on a coarse grid (many ties), a NaN row, an infinite row, unlabelled and out-of-range labels.
const MAKE_LOGITS = `
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
k = 6
y = rng.integers(0, k, 300)
z_id = rng.normal(0, 1.5, (300, k)).astype(np.float32)
z_id[np.arange(300), y] += rng.uniform(0, 5, 300).astype(np.float32)
y[:7] = -1
y[7:10] = 9
far = rng.normal(0, 1, (200, k)).astype(np.float32)
far[:20] = z_id[:20]
far[50, 2] = np.inf
near = (np.round(rng.normal(0, 2, (250, k)) * 2) / 2).astype(np.float32)
near[:40] = np.round(z_id[100:140] * 2) / 2
z_id[150:160] = np.round(z_id[150:160] * 2) / 2
near[7, 0] = np.nan
for name, z in (("id", z_id), ("far", far), ("near", near)):
    import os
    os.makedirs(os.path.join(out, name), exist_ok=True)
    np.save(os.path.join(out, name, "logits.npy"), z)
np.save(os.path.join(out, "id", "labels.npy"), y.astype(np.int64))
`;

const RUN_HELPER = `
import sys, json, numpy as np
sys.path.insert(0, sys.argv[1])
import oodlens_notebook as ol
d = sys.argv[2]
z = lambda s: np.load(f"{d}/{s}/logits.npy")
rep = ol.report(z("id"), {"far": z("far"), "near": z("near")}, np.load(f"{d}/id/labels.npy"), model="precomputed", samples=True)
json.dump(rep, sys.stdout, allow_nan=False)
`;

/** Runs Python code; no __pycache__ is left in python/. */
function python(code: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', env: { ...env, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every leaf of `expected` equals `actual`'s within 1e-12 (relative, for large values; measured: 2e-15); paths name what differs. */
function assertClose(actual: unknown, expected: unknown, where: string, diffs: { max: number }): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const d = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
    diffs.max = Math.max(diffs.max, d);
    assert.ok(d <= 1e-12, `${where}: helper ${actual}, engine ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: length ${(actual as unknown[])?.length} vs ${expected.length}`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, `${where}[${i}]`, diffs));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${where}: missing`);
    for (const [k, v] of Object.entries(expected)) assertClose((actual as Record<string, unknown>)[k], v, `${where}.${k}`, diffs);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(path.join(root, 'schemas', 'report.schema.json'), 'utf8')));
}

test('the notebook helper computes the engine\'s numbers on the same logits, and its report validates', { skip, timeout: 120_000 }, async () => {
  const t = tempDir();
  try {
    python(MAKE_LOGITS, [t.dir]);
    const helper = JSON.parse(python(RUN_HELPER, [helperDir, t.dir])) as Report;
    const engine = JSON.parse(reportJson(await runScore({
      models: [], id: path.join(t.dir, 'id'), ood: [path.join(t.dir, 'far'), path.join(t.dir, 'near')], scores: ['msp', 'max_logit', 'energy'],
    }))) as Report;

    const validate = validator();
    assert.ok(validate(helper), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(helper.schemaVersion, REPORT_SCHEMA_VERSION);
    for (const [k, v] of Object.entries(helper.conventions)) assert.equal(v, CONVENTIONS[k], `convention ${k}`);

    const diffs = { max: 0 };
    assert.equal(helper.ood.length, 6);
    assertClose(helper.ood, engine.ood, 'ood', diffs);
    assertClose(helper.curves, engine.curves, 'curves', diffs);
    assertClose(helper.histograms, engine.histograms, 'histograms', diffs);
    assertClose(helper.thresholds, engine.thresholds, 'thresholds', diffs);
    assert.equal(helper.calibration.length, 1);
    assertClose(helper.calibration, engine.calibration, 'calibration', diffs);
    assertClose(helper.samples, engine.samples, 'samples', diffs);
    assert.equal(helper.selective?.length, 1);
    assertClose(helper.selective, engine.selective, 'selective', diffs);
    assertClose(helper.splits.map((s) => [s.name, s.role, s.count]), engine.splits.map((s) => [s.name, s.role, s.count]), 'splits', diffs);
    assert.deepEqual(helper.models[0].classes, engine.models[0].classes);
    for (const w of helper.warnings) assert.ok(engine.warnings.includes(w), `warning not in the engine's: ${w}`);
    // The edge cases were there: tied AUROC halves, excluded NaN rows, excluded labels.
    assert.equal(helper.ood.find((r) => r.split === 'near')?.n_excluded_ood, 1);
    assert.equal(helper.calibration[0].n, 290);
    process.stderr.write(`notebook helper vs engine: largest relative difference ${diffs.max.toExponential(2)}\n`);
  } finally {
    t.cleanup();
  }
});

test('show() displays the report under the OOD Lens MIME type with a text fallback, raw', { skip, timeout: 60_000 }, () => {
  const t = tempDir();
  try {
    // A stand-in IPython that records what display() was given.
    mkdirSync(path.join(t.dir, 'IPython'));
    writeFileSync(path.join(t.dir, 'IPython', '__init__.py'), '');
    writeFileSync(path.join(t.dir, 'IPython', 'display.py'), 'calls = []\ndef display(*objs, **kw):\n    calls.append((objs, kw))\n');
    const out = python(`
import sys, json, numpy as np
sys.path.insert(0, sys.argv[1])
import oodlens_notebook as ol
from IPython import display
rng = np.random.default_rng(1)
rep = ol.show(rng.normal(size=(50, 3)), rng.normal(size=(40, 3)) * 0.2, rng.integers(0, 3, 50), classes=["cat", "<b>dog</b>", "eel"])
(objs, kw), = display.calls
print(json.dumps({"kw": kw, "keys": sorted(objs[0]), "same": objs[0][ol.MIME] is rep, "text": objs[0]["text/plain"], "classes": rep["models"][0]["classes"]}))
`, [helperDir], { ...process.env, PYTHONPATH: t.dir });
    const r = JSON.parse(out);
    assert.deepEqual(r.kw, { raw: true });
    assert.deepEqual(r.keys, ['application/vnd.oodlens.report+json', 'text/plain']);
    assert.equal(r.same, true);
    assert.match(r.text, /^OOD Lens report · model\n {2}ood +msp +AUROC \d\.\d{3}/);
    assert.deepEqual(r.classes, ['cat', '<b>dog</b>', 'eel'], 'names are data; the renderer escapes them');
  } finally {
    t.cleanup();
  }
});

test('the helper refuses inputs it cannot score, in one sentence', { skip }, () => {
  const err = (code: string) => {
    try {
      python(`import sys, numpy as np\nsys.path.insert(0, sys.argv[1])\nimport oodlens_notebook as ol\n${code}`, [helperDir]);
    } catch (e) {
      return String((e as { stderr?: string }).stderr).trim().split('\n').pop();
    }
    return 'no error';
  };
  assert.equal(err('ol.report(np.zeros((4, 3)), np.zeros((4, 2)))'), 'ValueError: ood: 2 classes, the ID logits have 3');
  assert.equal(err('ol.report(np.zeros(4), np.zeros((4, 2)))'), 'ValueError: id: logits must be a 2-D array [N, K], got shape (4,)');
  assert.equal(err('ol.report(np.zeros((4, 3)), np.zeros((4, 3)), [0, 1])'), 'ValueError: id_labels has 2 labels for 4 rows of logits');
  assert.equal(err('ol.report(np.zeros((4, 3)), np.zeros((4, 3)), scores=["vim"])'), "ValueError: unknown score(s) ['vim']; this helper computes ['msp', 'max_logit', 'energy']");
});

test('the extension contributes a renderer for the helper\'s MIME type, and the VSIX ships it', { skip }, () => {
  const mime = python('import sys\nsys.path.insert(0, sys.argv[1])\nimport oodlens_notebook as ol\nprint(ol.MIME)', [helperDir]).trim();
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.notebookRenderer.map((r: { entrypoint: string; mimeTypes: string[] }) => [r.entrypoint, r.mimeTypes]), [['./dist/renderer.js', [mime]]]);
  assert.match(readFileSync(path.join(root, '.vscodeignore'), 'utf8'), /^!dist\/renderer\.js$/m);
});
