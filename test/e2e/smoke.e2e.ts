// Scenario 0: the packaged extension installs into code-server and its commands are in the palette.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scenarioTimeout, withVsCode } from './harness';
import { paletteRows } from './palette';

const titles = [
  'OOD Lens: Score Dataset',
  'OOD Lens: Score With This Model',
  'OOD Lens: Calibrate Model',
  'OOD Lens: Run Workspace Config',
  'OOD Lens: Open Last Report',
  'OOD Lens: Export Report',
  'OOD Lens: Open Demo',
];

test('the palette lists every OOD Lens command', scenarioTimeout(), async () => {
  await withVsCode('smoke', {}, async ({ page, screenshot }) => {
    const rows = await paletteRows(page, '>OOD Lens:', /^OOD Lens: /);
    const listed = (await rows.locator('.label-name').allTextContents()).map((s) => s.trim());
    await screenshot('palette');
    for (const title of titles) assert.ok(listed.some((l) => l.startsWith(title)), `"${title}" not in the palette: ${listed.join(' | ')}`);
  });
});
