// Scenario 1: right-click the ID folder → Score Dataset, Enter through the prompts → the panel shows the
// CLI's numbers for the same inputs, its charts have drawn, and the webview logged no errors.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWebviewEntry } from './browser';
import { cliScore, fixed3 } from './cli';
import { demoAvailable, demoWorkspace, type DemoWorkspace } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { canvasInk, hasDrawn, tableRows, waitForPanel } from './webview';
import { explorerContextCommand } from './explorer';
import { acceptPrompts } from './palette';

test('Score Dataset from the Explorer matches the CLI and draws its charts', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  let ws!: DemoWorkspace;
  await withVsCode('score-dataset', { setup: (dir) => void (ws = demoWorkspace(dir)) }, async ({ page, out, errors, screenshot }) => {
    const cli = await cliScore({
      model: ws.model,
      id: ws.split('id_test'),
      ood: [ws.split('ood_digits'), ws.split('ood_heldout')],
      calib: ws.split('id_calib'),
      json: join(out, 'cli.json'),
    });

    await explorerContextCommand(page, 'data/id_test', 'Score Dataset');
    // One model in the workspace: no model prompt. Then OOD sets (ood_* pre-checked), then calibration.
    const [oodPrompt, calibPrompt] = await acceptPrompts(page, 2);
    assert.deepEqual([...oodPrompt.picked].sort(), ['ood_digits', 'ood_heldout'], `OOD prompt: ${JSON.stringify(oodPrompt)}`);
    assert.equal(calibPrompt.active, 'id_calib', `calibration prompt: ${JSON.stringify(calibPrompt)}`);

    const panel = await waitForPanel(page);
    await screenshot('panel');

    const oodRows = await tableRows(panel, 'table#ood-table');
    assert.ok(oodRows.length >= 2, `ood-table has ${oodRows.length} rows`);
    for (const split of ['ood_digits', 'ood_heldout']) assert.ok(oodRows.some((r) => r.split === split), `no panel row for ${split}`);
    for (const row of oodRows) {
      const ref = cli.ood.find((c) => c.model === row.model && c.split === row.split && c.score === row.score);
      assert.ok(ref, `panel row ${row.model}/${row.split}/${row.score} is not in the CLI report`);
      for (const m of ['auroc', 'fpr95'] as const) assert.equal(row[m], fixed3(ref[m]), `${m} of ${row.model}/${row.split}/${row.score}`);
    }

    const calRows = await tableRows(panel, 'table#calibration-table');
    const before = calRows.filter((r) => r.stage === 'before');
    assert.ok(before.length >= 1, 'no calibration rows');
    for (const row of before) {
      const ref = cli.calibration.find((c) => c.model === row.model && c.split === row.split);
      assert.ok(ref, `calibration row ${row.model}/${row.split} is not in the CLI report`);
      assert.equal(row.ece, fixed3(ref.ece), `ECE of ${row.model}/${row.split}`);
    }

    for (const id of ['#chart-histogram', '#chart-roc', '#chart-reliability-before']) {
      const ink = await canvasInk(panel, id);
      assert.ok(hasDrawn(ink), `${id} looks empty: ${JSON.stringify(ink)}`);
    }
    const webviewErrors = errors.filter(isWebviewEntry);
    assert.deepEqual(webviewErrors, [], 'console errors from the webview');
  });
});
