// Issue 15: a split given as a CSV, TSV or JSONL manifest (path, label, split columns) gives the report the same
// files give as a folder; missing files are skipped with a reason; integer labels are class indices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runScore } from '../../src/engine/run';
import { buildLinearModel } from '../helpers/onnx-builder';
import { imageFolder, scratchDirs, weights, writeFile } from '../helpers/fixtures';

const scratch = scratchDirs();

async function setup() {
  const dir = await scratch('oodlens-manifest-');
  const id = await imageFolder(path.join(dir, 'id'), ['cat', 'dog'], 4, 2, 2, 1);
  const ood = await imageFolder(path.join(dir, 'ood'), ['x'], 5, 2, 2, 1, 50);
  const model = path.join(dir, 'm.onnx');
  writeFile(model, buildLinearModel({ inputShape: ['N', 1, 2, 2], W: weights(2 * 4, 3), b: [0, 0], features: true, metadata: { classes: '["cat","dog"]' } }));
  const rel = (f: string) => path.relative(dir, f).split(path.sep).join('/');
  return { dir, model, id: [...id.keys()], ood: [...ood.keys()], rel };
}

/** The report without what differs between runs (timing) and between sources (split names, paths). */
function numbers(r: Awaited<ReturnType<typeof runScore>>) {
  return { ood: r.ood.map(({ split: _, ...x }) => x), calibration: r.calibration.map(({ split: _, ...x }) => x), scores: r.samples.map((s) => s.scores) };
}

test('CSV, TSV and JSONL manifests of the same files give the folder\'s numbers; missing rows are skipped', async () => {
  const { dir, model, id, ood, rel } = await setup();
  const label = (f: string) => path.basename(path.dirname(f));
  // Rows shuffled, and a file that is not there.
  const rows = [...id].reverse().map((f) => [rel(f), label(f)]).concat([['id/cat/gone.png', 'cat']]);
  writeFile(path.join(dir, 'id.csv'), 'path,label\n' + rows.map(([p, l]) => `"${p}",${l}`).join('\n') + '\n');
  writeFile(path.join(dir, 'id.tsv'), 'filename\tclass\n' + rows.map(([p, l]) => `${p}\t${l}`).join('\n') + '\n');
  writeFile(path.join(dir, 'all.jsonl'), [...rows.map(([p, l]) => ({ path: p, label: l, split: 'test' })), ...ood.map((f) => ({ path: rel(f), split: 'far' }))].map((o) => JSON.stringify(o)).join('\n'));
  const folder = await runScore({ models: [model], id: path.join(dir, 'id'), ood: [path.join(dir, 'ood')], fit: path.join(dir, 'id'), scores: ['msp', 'energy', 'knn'] });
  for (const [idSrc, oodSrc] of [[path.join(dir, 'id.csv'), path.join(dir, 'ood')], [path.join(dir, 'id.tsv'), path.join(dir, 'ood')], [`${path.join(dir, 'all.jsonl')}#split=test`, `${path.join(dir, 'all.jsonl')}#split=far`]]) {
    const r = await runScore({ models: [model], id: idSrc, ood: [oodSrc], fit: path.join(dir, 'id'), scores: ['msp', 'energy', 'knn'] });
    assert.deepEqual(numbers(r), numbers(folder), idSrc);
    const idSplit = r.splits.find((s) => s.role === 'id')!;
    assert.deepEqual(idSplit.classes, ['cat', 'dog']);
    assert.deepEqual(idSplit.skipped, [{ path: path.join(dir, 'id', 'cat', 'gone.png'), reason: `file not found (listed in ${path.basename(idSrc.split('#')[0])})` }]);
  }
});

test('integer labels are the model\'s class indices; a bad manifest is one clear error', async () => {
  const { dir, model, id, rel } = await setup();
  writeFile(path.join(dir, 'idx.csv'), 'image,target\n' + id.map((f) => `${rel(f)},${path.basename(path.dirname(f)) === 'cat' ? 0 : 1}`).join('\n'));
  const byIndex = await runScore({ models: [model], id: path.join(dir, 'idx.csv'), scores: ['msp'] });
  const byFolder = await runScore({ models: [model], id: path.join(dir, 'id'), scores: ['msp'] });
  assert.equal(byIndex.calibration[0].accuracy, byFolder.calibration[0].accuracy);
  writeFile(path.join(dir, 'nopath.csv'), 'name,label\na.png,cat\n');
  await assert.rejects(runScore({ models: [model], id: path.join(dir, 'nopath.csv') }), /nopath\.csv: no path column \(one of path, file, filename/);
  await assert.rejects(runScore({ models: [model], id: `${path.join(dir, 'idx.csv')}#split=test` }), /idx\.csv: no split column for #split=test/);
  await assert.rejects(runScore({ models: [model], id: path.join(dir, 'none.csv') }), /Manifest not found: /);
});
