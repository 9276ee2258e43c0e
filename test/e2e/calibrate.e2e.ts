// Scenario 4: Calibrate Model from the palette → before/after reliability diagrams and the fitted
// temperature; the calibrated ONNX it writes scores, in the CLI, with the ECE the panel shows after scaling.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliScore } from './cli';
import { demoAvailable, demoWorkspace, type DemoWorkspace } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { canvasInk, hasDrawn, tableRows, waitForPanel } from './webview';
import { clickNotificationButton, findNotification } from './notifications';
import { answerFolderDialog, runCommand } from './palette';

test('Calibrate Model shows before/after diagrams and writes a model the CLI agrees with', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  let ws!: DemoWorkspace;
  await withVsCode('calibrate', { setup: (dir) => void (ws = demoWorkspace(dir)) }, async ({ page, out, screenshot, step }) => {
    await runCommand(page, 'OOD Lens: Calibrate Model');
    // One model in the workspace: no model prompt; the calibration folder comes from a folder dialog.
    await answerFolderDialog(page, ws.split('id_calib'));
    const panel = await waitForPanel(page);
    step('calibration drawn');
    await screenshot('panel');

    const rows = await tableRows(panel, 'table#calibration-table');
    const after = rows.find((r) => r.stage === 'after');
    assert.ok(after && rows.some((r) => r.stage === 'before'), `calibration rows: ${JSON.stringify(rows)}`);
    assert.match(after.temperature, /^\d+\.\d{3}$/, `temperature cell: ${after.temperature}`);
    for (const id of ['#chart-reliability-before', '#chart-reliability-after']) {
      const ink = await canvasInk(panel, id);
      assert.ok(hasDrawn(ink), `${id} looks empty: ${JSON.stringify(ink)}`);
    }

    const calibrated = join(ws.root, 'models', 'ce_seed0.calibrated.onnx');
    await clickNotificationButton(page, new RegExp(`fitted temperature T = ${after.temperature.replace('.', '\\.')}`), 'Write');
    await findNotification(page, /wrote ce_seed0\.calibrated\.onnx/);
    assert.ok(existsSync(calibrated), `${calibrated} not written`);
    step('calibrated model written');

    const cli = await cliScore({ model: calibrated, id: ws.split('id_calib'), ood: [], json: join(out, 'cli-calibrated.json') });
    const ref = cli.calibration[0];
    assert.ok(ref, 'CLI report has no calibration row');
    assert.equal(ref.ece.toFixed(3), after.ece, 'ECE of the calibrated model vs the panel after scaling');
  });
});
