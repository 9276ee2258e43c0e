// Scenario 2: a failing gate in oodlens.json → Run Workspace Config → a Problems entry names the gate;
// fix the gate in the file → re-run → the entry is gone.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { demoAvailable, demoWorkspace, writeJson } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { waitForProblems } from './notifications';
import { runCommand } from './palette';

function config(aurocMin: number) {
  return {
    models: ['models/ce_seed0.onnx'],
    id: 'data/id_test',
    ood: ['data/ood_heldout'],
    calib: 'data/id_calib',
    gates: { auroc_min: { ood_heldout: aurocMin } },
  };
}

const gateRow = (r: string) => /AUROC/.test(r) && /ood_heldout/.test(r);

test('a failing gate shows in Problems and clears once fixed', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  let configPath = '';
  const setup = (dir: string) => {
    demoWorkspace(dir);
    configPath = join(dir, 'oodlens.json');
    // The demo model's AUROC on held-out classes is far below 0.99.
    writeJson(configPath, config(0.99));
  };
  await withVsCode('gates', { setup }, async ({ page, screenshot, step }) => {
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    const failing = await waitForProblems(page, (rows) => rows.some(gateRow), 180_000);
    step('gate failure in Problems');
    await screenshot('gate-failing');
    assert.ok(failing.some((r) => /oodlens\.json/.test(r)), `Problems entry not on oodlens.json: ${failing.join(' | ')}`);

    writeJson(configPath, config(0.5));
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    await waitForProblems(page, (rows) => !rows.some(gateRow), 180_000);
    step('gate failure cleared');
    await screenshot('gate-fixed');
  });
});
