import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectGallery } from '../../src/shared/gallery';
import { formatHeadline, headline, headlineModel, headlineScore, reportModels } from '../../src/shared/headline';
import { flaggedSamples, sampleFile, splitFolders } from '../../src/vscode/samples';
import { parseReport } from '../../src/vscode/reportFile';
import { loadFixture } from '../helpers/report-fixture';

test('the headline is the ensemble on energy, weakest OOD split, ECE on the ID split', () => {
  const report = loadFixture();
  assert.deepEqual(reportModels(report), ['convnet_a', 'convnet_b', 'ensemble']);
  assert.equal(headlineModel(report), 'ensemble');
  assert.equal(headlineScore(report), 'energy');
  const h = headline(report)!;
  assert.deepEqual([h.auroc, h.ece], [{ value: 0.87, split: 'ood_near' }, { value: 0.067, split: 'id' }]);
  assert.equal(formatHeadline(h), 'AUROC 0.870 · ECE 0.067');
  report.partial = true;
  assert.equal(formatHeadline(headline(report)!), 'AUROC 0.870 · ECE 0.067 (partial)');
});

test('sample files: absolute kept, relative resolved against the run folder, noise has none', () => {
  assert.equal(sampleFile('/d/id/a.png', '/w'), '/d/id/a.png');
  assert.equal(sampleFile('id/a.png', '/w'), '/w/id/a.png');
  assert.equal(sampleFile('id/a.png', undefined), undefined);
  assert.equal(sampleFile('noise:20#3', '/w'), undefined);
  assert.deepEqual(splitFolders(loadFixture(), '/w'), ['/data/demo/id', '/data/demo/calib', '/data/demo/ood_near']);
});

test('Explorer badges: samples above the headline threshold, with their score', () => {
  const report = loadFixture();
  const flags = flaggedSamples(report, undefined);
  const expected = report.samples.filter((s) => !s.path.startsWith('noise:') && (s.scores.ensemble.energy ?? -Infinity) > 1.31);
  assert.equal(flags.size, expected.length);
  assert.ok(flags.size > 0);
  for (const s of expected) assert.equal(flags.get(s.path)?.value, s.scores.ensemble.energy);
  report.thresholds = [];
  assert.equal(flaggedSamples(report, undefined).size, 0);
});

test('gallery: most-OOD ID, least-OOD OOD, confidently wrong; ordered by the report scores', () => {
  const report = loadFixture();
  const g = selectGallery(report, 3)!;
  assert.deepEqual([g.model, g.score], ['ensemble', 'energy']);
  const kind = (k: string) => g.items.filter((i) => i.kind === k);
  const idScores = report.samples.filter((s) => s.split === 'id').map((s) => s.scores.ensemble.energy!).sort((a, b) => b - a);
  assert.deepEqual(kind('most-ood-id').map((i) => i.score), idScores.slice(0, 3));
  assert.ok(kind('least-ood-ood').every((i) => i.split === 'ood_near' || i.split === 'noise:20'));
  for (const i of kind('confident-wrong')) assert.notEqual(i.label, i.prediction);
  assert.equal(kind('confident-wrong')[0].label !== null, true);
});

test('a saved file that is not a report is refused with a reason', () => {
  assert.ok(parseReport(JSON.stringify(loadFixture())).report);
  assert.match(parseReport('{').error!, /not JSON/);
  assert.match(parseReport('[]').error!, /schemaVersion/);
  assert.match(parseReport(JSON.stringify({ schemaVersion: 2, models: [] })).error!, /missing splits/);
});
