import '../helpers/vscode-mock';
import { test } from 'node:test';
import { scratchDirs } from '../helpers/fixtures';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as vscodeTypes from 'vscode';
import { ReportStore } from '../../src/vscode/store';
import { loadFixture } from '../helpers/report-fixture';
import { Memento, Uri, ui, vscode } from '../helpers/vscode-mock';


const scratch = scratchDirs();

/** A workspace folder holding .oodlens/reports/latest.json (the fixture, its ID split moved here) and oodlens.json. */
async function workspace(configId: string, models = ['convnet_b.onnx', 'convnet_a.onnx']) {
  const dir = await scratch('oodlens-store-');
  const report = loadFixture();
  report.splits.find((s) => s.role === 'id')!.source = join(dir, 'data', 'id');
  report.models.forEach((m) => (m.path = join(dir, `${m.name}.onnx`)));
  await mkdir(join(dir, '.oodlens', 'reports'), { recursive: true });
  await writeFile(join(dir, '.oodlens', 'reports', 'latest.json'), JSON.stringify(report));
  await writeFile(join(dir, 'oodlens.json'), JSON.stringify({ models, id: configId, gates: { auroc_min: { ood_near: 0.9 } } }));
  vscode.workspace.workspaceFolders = [{ uri: Uri.file(dir) }];
  return dir;
}

const newStore = () => new ReportStore(new Memento() as unknown as vscodeTypes.Memento);

test('after a reload the workspace latest.json is restored, with the gates of the oodlens.json that produced it', async () => {
  ui.reset();
  const dir = await workspace('data/id');
  const shown = await newStore().restore();
  assert.ok(shown);
  assert.equal(shown.file, join(dir, '.oodlens', 'reports', 'latest.json'));
  assert.deepEqual([shown.origin, shown.configPath, shown.baseDir], ['oodlens.json', join(dir, 'oodlens.json'), dir]);
  assert.deepEqual(shown.gates.map((g) => [g.pointer, g.passed]), [['/gates/auroc_min/ood_near', false]]);
});

test('a config for another ID folder or other models is not taken for the report\'s: no gates', async () => {
  for (const [id, models] of [['data/other', undefined], ['data/id', ['convnet_a.onnx']]] as const) {
    const dir = await workspace(id, models ? [...models] : undefined);
    const shown = await newStore().restore();
    assert.deepEqual([shown?.origin, shown?.configPath, shown?.gates.length], ['latest report', undefined, 0]);
    assert.equal(shown?.baseDir, dir);
  }
});

test('nothing saved: nothing restored', async () => {
  vscode.workspace.workspaceFolders = [{ uri: Uri.file(await scratch('oodlens-empty-')) }];
  assert.equal(await newStore().restore(), undefined);
});
