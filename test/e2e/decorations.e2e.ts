// Scenario 3: after a run, images the deployment threshold flags as OOD carry an Explorer badge; most OOD
// images do, few ID images do.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { demoAvailable, demoWorkspace, writeJson } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { waitForPanel } from './webview';
import { explorerChildren } from './explorer';
import { runCommand } from './palette';

test('OOD-flagged images carry Explorer badges', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  const setup = (dir: string) => {
    demoWorkspace(dir);
    writeJson(join(dir, 'oodlens.json'), { models: ['models/ce_seed0.onnx'], id: 'data/id_test', ood: ['data/ood_digits'], calib: 'data/id_calib' });
  };
  await withVsCode('decorations', { setup }, async ({ page, screenshot, step }) => {
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    await waitForPanel(page);
    step('run finished');

    const share = (entries: { badge: string }[]) => entries.filter((e) => e.badge !== '').length / entries.length;
    // Badges arrive asynchronously after the report: wait for the first one.
    let ood = await explorerChildren(page, 'data/ood_digits/7');
    for (const deadline = Date.now() + 30_000; share(ood) === 0 && Date.now() < deadline; ) {
      await page.waitForTimeout(500);
      ood = await explorerChildren(page, 'data/ood_digits/7');
    }
    await screenshot('ood-badges');
    const id = await explorerChildren(page, 'data/id_test/Trouser');
    await screenshot('id-badges');
    assert.ok(ood.length > 0 && id.length > 0, 'class folders listed no images');
    assert.ok(share(ood) >= 0.5, `only ${ood.filter((e) => e.badge).length}/${ood.length} OOD images badged: ${JSON.stringify(ood.slice(0, 3))}`);
    assert.ok(share(id) < share(ood), `ID images badged as often as OOD ones (${share(id)} vs ${share(ood)})`);
  });
});
