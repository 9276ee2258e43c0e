import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/vscode/commandIds';
import { repoRoot } from '../helpers/report-fixture';

const root = repoRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

test('every command id is contributed with its contract title', () => {
  const titles = Object.fromEntries(pkg.contributes.commands.map((c: { command: string; category: string; title: string }) => [c.command, `${c.category}: ${c.title}`]));
  assert.deepEqual(Object.keys(titles).sort(), Object.values(COMMANDS).sort());
  assert.equal(titles['oodLens.scoreDataset'], 'OOD Lens: Score Dataset');
  assert.equal(titles['oodLens.scoreWithModel'], 'OOD Lens: Score With This Model');
  assert.equal(titles['oodLens.compareModels'], 'OOD Lens: Compare / Ensemble Models');
  assert.equal(titles['oodLens.calibrate'], 'OOD Lens: Calibrate Model');
  assert.equal(titles['oodLens.runConfig'], 'OOD Lens: Run Workspace Config');
  assert.equal(titles['oodLens.openDemo'], 'OOD Lens: Open Demo');
  assert.equal(titles['oodLens.compareReports'], 'OOD Lens: Compare Reports…');
});

test('Explorer menus show only where they apply, and run commands only in a trusted workspace', () => {
  const when = Object.fromEntries(pkg.contributes.menus['explorer/context'].map((m: { command: string; when: string }) => [m.command, m.when]));
  assert.match(when['oodLens.scoreDataset'], /explorerResourceIsFolder/);
  assert.match(when['oodLens.scoreWithModel'], /resourceExtname == \.onnx && !listMultiSelection/);
  assert.match(when['oodLens.compareModels'], /resourceExtname == \.onnx && listMultiSelection/);
  for (const w of Object.values(when)) assert.match(w as string, /isWorkspaceTrusted/);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
});

test('settings and schema are contributed with the documented defaults', () => {
  const p = pkg.contributes.configuration.properties;
  assert.deepEqual(
    Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (v as { default: unknown }).default])),
    {
      'oodLens.executionProviders': ['auto'], 'oodLens.preprocess': {}, 'oodLens.batchSize': 64, 'oodLens.defaultScores': [], 'oodLens.histogramBins': 30,
      'oodLens.eceBins': 15, 'oodLens.keepFraction': 0.95, 'oodLens.decorations.enabled': true, 'oodLens.watch.enabled': false,
      'oodLens.cache.maxSizeMB': 2048, 'oodLens.history.keep': 20,
    });
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: 'oodlens.json', url: './schemas/oodlens.schema.json' }]);
  const schema = JSON.parse(readFileSync(join(root, 'schemas', 'oodlens.schema.json'), 'utf8'));
  assert.deepEqual(Object.keys(schema.properties.gates.properties).sort(),
    ['accuracy_min', 'aupr_in_min', 'aupr_out_min', 'aurc_max', 'auroc_min', 'calibration_stage', 'conformal_alpha', 'conformal_method', 'coverage_min', 'ece_max', 'fpr95_max', 'id_flagged_max', 'model', 'ood_flagged_min', 'score', 'set_size_max']);
  // The setting takes the same preprocessing keys as oodlens.json (those that make sense for every model).
  const setting = p['oodLens.preprocess'] as { properties: Record<string, unknown> };
  for (const [k, v] of Object.entries(setting.properties)) assert.deepEqual(v, schema.properties.preprocess.properties[k], k);
  assert.deepEqual(new Set(Object.keys(setting.properties)), new Set(['preset', 'resize', 'crop', 'cropPct', 'interpolation', 'mean', 'std', 'exif', 'jpegDraft', 'features', 'labelMap']));
});
