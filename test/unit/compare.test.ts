import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffReports } from '../../src/engine/compare/diff';
import type { Report } from '../../src/engine/report/types';
import { loadFixture } from '../helpers/report-fixture';

/** B: the same run after "retraining": energy AUROC on ood_near up, scores shifted so some flags change. */
function retrained(a: Report): Report {
  const b = structuredClone(a);
  b.createdAt = '2026-11-23T08:40:00.000Z';
  for (const r of b.ood) if (r.model === 'convnet_a' && r.score === 'energy' && r.split === 'ood_near') r.auroc = 0.9;
  b.ood = b.ood.filter((r) => !(r.model === 'convnet_a' && r.score === 'msp' && r.split === 'noise:20'));
  // Reversed order: samples are matched by split and path, not position.
  b.samples.reverse();
  for (const s of b.samples) {
    const v = s.scores.convnet_a.energy;
    if (typeof v === 'number') s.scores.convnet_a.energy = v + 0.3;
  }
  return b;
}

test('the OOD table as A, B and B − A; a row only one side has gives nulls, not a change', () => {
  const a = loadFixture();
  const d = diffReports({ label: 'A', report: a, model: 'convnet_a' }, { label: 'B', report: retrained(a), model: 'convnet_a' });
  const near = d.ood.find((r) => r.split === 'ood_near' && r.score === 'energy')!;
  assert.equal(near.metrics.auroc.a, 0.84);
  assert.equal(near.metrics.auroc.b, 0.9);
  assert.ok(Math.abs(near.metrics.auroc.delta! - 0.06) < 1e-12);
  assert.equal(near.metrics.fpr95.delta, 0);
  const gone = d.ood.find((r) => r.split === 'noise:20' && r.score === 'msp')!;
  assert.deepEqual(gone.metrics.auroc, { a: gone.metrics.auroc.a, b: null, delta: null });
  assert.deepEqual(d.scores, ['energy', 'msp', 'max_logit']);
});

test('flag changes: each side flags at its own deployment threshold; counts by hand, newly flagged first', () => {
  const a = loadFixture();
  const b = retrained(a);
  const d = diffReports({ label: 'A', report: a, model: 'convnet_a' }, { label: 'B', report: b, model: 'convnet_a' });
  const f = d.flags.find((x) => x.score === 'energy')!;
  const t = a.thresholds.find((r) => r.model === 'convnet_a' && r.score === 'energy')!.threshold;
  const scored = a.samples.filter((s) => typeof s.scores.convnet_a.energy === 'number');
  // Same threshold on both sides, scores up by 0.3: exactly the samples in (t − 0.3, t] become flagged.
  const want = scored.filter((s) => { const v = s.scores.convnet_a.energy as number; return v <= t && v + 0.3 > t; });
  assert.equal(f.matched, scored.length);
  assert.equal(f.newlyFlagged, want.length);
  assert.equal(f.noLongerFlagged, 0);
  assert.ok(want.length > 0, 'the fixture has samples just under the threshold');
  assert.deepEqual(f.items.map((i) => i.path).sort(), want.map((s) => s.path).sort());
  assert.ok(f.items.every((i) => i.nowFlagged && i.scoreA <= t && i.scoreB > t));
  // Items are capped, counts are not.
  const capped = diffReports({ label: 'A', report: a, model: 'convnet_a' }, { label: 'B', report: b, model: 'convnet_a' }, 1).flags[0];
  assert.deepEqual([capped.items.length, capped.newlyFlagged], [1, want.length]);
});

test('two models of one report: the same samples, each model at its own threshold', () => {
  const r = loadFixture();
  const d = diffReports({ label: 'convnet_a', report: r, model: 'convnet_a' }, { label: 'convnet_b', report: r, model: 'convnet_b' });
  const f = d.flags.find((x) => x.score === 'energy')!;
  const ta = r.thresholds.find((x) => x.model === 'convnet_a' && x.score === 'energy')!.threshold;
  const tb = r.thresholds.find((x) => x.model === 'convnet_b' && x.score === 'energy')!.threshold;
  const flips = r.samples.filter((s) => {
    const [va, vb] = [s.scores.convnet_a.energy, s.scores.convnet_b.energy];
    return typeof va === 'number' && typeof vb === 'number' && (va > ta) !== (vb > tb);
  });
  assert.equal(f.newlyFlagged + f.noLongerFlagged, flips.length);
  assert.equal(d.ood.length, r.ood.filter((x) => x.model === 'convnet_a').length);
});

test('no per-sample scores (samples in a Parquet file) or no threshold: no flag comparison, the table still compares', () => {
  const a = { ...loadFixture(), samples: [] };
  const d = diffReports({ label: 'A', report: a, model: 'convnet_a' }, { label: 'B', report: retrained(loadFixture()), model: 'convnet_a' });
  assert.deepEqual(d.flags, []);
  assert.ok(d.ood.length > 0);
  const b = loadFixture();
  b.thresholds = [];
  assert.deepEqual(diffReports({ label: 'A', report: loadFixture(), model: 'convnet_a' }, { label: 'B', report: b, model: 'convnet_a' }).flags, []);
});
