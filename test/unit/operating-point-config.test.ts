// Deployment thresholds set in oodlens.json: parsed and validated like the schema says, written back by "Use as
// deployment threshold" without disturbing the file, used by the run's report (CLI and VS Code) and by the gates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { parseConfig } from '../../src/engine/config';
import { evaluateGates } from '../../src/engine/gates';
import { operatingPoint, withConfiguredThresholds } from '../../src/engine/operating-point';
import { runScore } from '../../src/engine/run';
import { withThreshold } from '../../src/vscode/thresholdEdit';
import { flaggedSamples } from '../../src/vscode/samples';
import { selectGallery } from '../../src/shared/gallery';
import { parseFromWebview } from '../../src/shared/protocol';
import { npy, tempDir, writeFile } from '../helpers/fixtures';
import { loadFixture, repoRoot } from '../helpers/report-fixture';

const schema = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(path.join(repoRoot(), 'schemas', 'oodlens.schema.json'), 'utf8')));

test('config thresholds are parsed into the run options; bad entries are issues at their own pointer', () => {
  const good = parseConfig(JSON.stringify({ models: ['m.onnx'], id: 'id', thresholds: [{ model: 'm', score: 'energy', threshold: -3.5 }] }), '/w/oodlens.json');
  assert.deepEqual(good.issues, []);
  assert.deepEqual(good.options!.thresholds, [{ model: 'm', score: 'energy', threshold: -3.5 }]);
  const bad = parseConfig(JSON.stringify({ models: ['m.onnx'], id: 'id', thresholds: [{ model: 'm', score: 'energy', threshold: 1 }, { model: 'm', score: 'msp' }, { model: 'm', score: 'energy', threshold: 2 }, { model: 'm', score: 'x', threshold: 0, keep: 1 }] }), '/w/oodlens.json');
  assert.deepEqual(bad.issues.map((i) => i.path), ['/thresholds/1', '/thresholds/2', '/thresholds/3']);
  assert.match(bad.issues[0].message, /finite number "threshold"/);
  assert.match(bad.issues[1].message, /repeats m \/ energy/);
  assert.equal(parseConfig('{"models": ["m.onnx"], "id": "x", "thresholds": {}}', '/w/oodlens.json').issues[0].message, '"thresholds" must be an array');
});

test('Use as deployment threshold edits oodlens.json in place: adds, then replaces, keeps comments; the schema accepts it', () => {
  const text = '{\n    // the demo\n    "models": ["m.onnx"],\n    "id": "data/id"\n}\n';
  const once = withThreshold(text, { model: 'm', score: 'energy', threshold: 1.25 });
  assert.match(once, /\/\/ the demo/);
  assert.match(once, /\n {4}"thresholds": \[/, 'the file\'s own indentation');
  const twice = withThreshold(withThreshold(once, { model: 'm', score: 'msp', threshold: -0.5 }), { model: 'm', score: 'energy', threshold: 2 });
  const parsed = parseConfig(twice, '/w/oodlens.json');
  assert.deepEqual(parsed.issues, []);
  assert.deepEqual(parsed.thresholds, [{ model: 'm', score: 'energy', threshold: 2 }, { model: 'm', score: 'msp', threshold: -0.5 }]);
  assert.ok(schema(JSON.parse(twice.replace(/\/\/.*\n/, ''))), JSON.stringify(schema.errors));
  assert.ok(!schema({ models: ['m.onnx'], id: 'x', thresholds: [{ model: 'm', score: 'energy' }] }), 'threshold is required');
});

test('the run uses a configured threshold for its model and score, says so, and warns about one that matches nothing', async () => {
  const t = tempDir();
  try {
    writeFile(path.join(t.dir, 'id', 'logits.npy'), npy([6, 2], [3, 0, 2, 0, 1, 0, 0.5, 0, 2.5, 0, 4, 0]));
    writeFile(path.join(t.dir, 'ood', 'logits.npy'), npy([4, 2], [0.2, 0, 0.1, 0, 1.5, 0, 0, 0]));
    const opts = { models: [], id: path.join(t.dir, 'id'), ood: [path.join(t.dir, 'ood')], scores: ['energy', 'msp'] };
    const plain = await runScore(opts);
    const report = await runScore({ ...opts, thresholds: [{ model: 'precomputed', score: 'energy', threshold: -1 }, { model: 'other', score: 'energy', threshold: 0 }] });
    const row = report.thresholds.find((r) => r.score === 'energy')!;
    const want = operatingPoint(report, 'precomputed', 'energy', -1);
    assert.equal(row.source, 'config');
    assert.equal(row.threshold, -1);
    for (const s of want.splits) assert.equal(row.flagged[s.split], s.fraction);
    assert.equal(row.keepFraction, 1 - row.flagged.id);
    assert.equal(report.histograms.find((h) => h.score === 'energy')!.threshold, -1);
    assert.deepEqual(report.thresholds.find((r) => r.score === 'msp'), plain.thresholds.find((r) => r.score === 'msp'), 'other scores keep keepFraction\'s');
    assert.deepEqual(report.settings.thresholds, [{ model: 'precomputed', score: 'energy', threshold: -1 }, { model: 'other', score: 'energy', threshold: 0 }]);
    assert.ok(report.warnings.some((w) => /no other \/ energy/.test(w)), report.warnings.join('; '));
  } finally {
    t.cleanup();
  }
});

test('threshold gates read the deployment threshold: the configured one once it is set', () => {
  const report = loadFixture();
  const gates = { model: 'convnet_a', score: 'energy', id_flagged_max: 0.1, ood_flagged_min: { ood_near: 0.5 } };
  const before = evaluateGates(report, gates);
  assert.deepEqual(before.map((g) => [g.gate, g.split, g.actual, g.passed]), [['id_flagged_max', 'id', 0.042, true], ['ood_flagged_min', 'ood_near', 0.6, true]]);
  const after = evaluateGates(withConfiguredThresholds(report, [{ model: 'convnet_a', score: 'energy', threshold: -10 }]), gates);
  assert.deepEqual(after.map((g) => [g.actual, g.passed]), [[1, false], [1, true]]);
  assert.match(after[0].message, /ID flagged 1\.000 for convnet_a on id \(energy > -10\.00, set in the config\) fails ≤ 0\.1/);
  assert.equal(after[0].pointer, '/gates/id_flagged_max');
});

test('badges and gallery follow a configured threshold of the headline model and score', () => {
  const report = withConfiguredThresholds(loadFixture(), [{ model: 'ensemble', score: 'energy', threshold: 0 }]);
  const flags = flaggedSamples(report, undefined);
  const above = report.samples.filter((s) => !s.path.startsWith('noise:') && (s.scores.ensemble.energy ?? -Infinity) > 0);
  assert.equal(flags.size, above.length);
  assert.ok([...flags.values()].every((f) => f.threshold === 0 && f.configured));
  const gallery = selectGallery(report)!;
  assert.ok(gallery.items.length > 0);
  for (const item of gallery.items) assert.equal(item.flagged, item.score > 0, item.path);
});

test('the host accepts well-formed operating-point messages only', () => {
  const ok = { type: 'operatingPointRequest', requestId: 3, model: 'm', score: 'energy', at: { fpr: 0.05 } };
  assert.deepEqual(parseFromWebview(ok), ok);
  assert.deepEqual(parseFromWebview({ ...ok, at: { threshold: -2.5 } }), { ...ok, at: { threshold: -2.5 } });
  for (const at of [{ fpr: 1.5 }, { threshold: Number.NaN }, {}, null]) assert.equal(parseFromWebview({ ...ok, at }), undefined, JSON.stringify(at));
  assert.equal(parseFromWebview({ ...ok, model: '' }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'useThreshold', model: 'm', score: 'energy', threshold: 1 }), { type: 'useThreshold', model: 'm', score: 'energy', threshold: 1 });
  assert.equal(parseFromWebview({ type: 'useThreshold', model: 'm', score: 'energy', threshold: Infinity }), undefined);
});
