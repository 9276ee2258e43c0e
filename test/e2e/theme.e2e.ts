// Scenario 6: switching the colour theme to dark, then high contrast, from the palette redraws the charts in
// the theme's colours (read from the canvas pixels).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { demoAvailable, demoWorkspace, writeJson } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { canvasInk, hasDrawn, waitForPanel, type Ink } from './webview';
import { pickItem, runCommand } from './palette';

const charts = ['#chart-histogram', '#chart-roc'];

async function inks(panel: FrameLocator): Promise<Ink[]> {
  return Promise.all(charts.map((c) => canvasInk(panel, c)));
}

const distance = (a: Ink, b: Ink) => Math.hypot(...a.mean.map((v, i) => v - b.mean[i]));

async function pickTheme(page: Page, theme: string, workbenchClass: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  // Its rows are labelled without the "Default" prefix of the setting's value.
  await pickItem(page, theme);
  await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: 30_000 });
}

/** Waits until every chart has redrawn away from the previous colours. */
async function waitForRedraw(page: Page, panel: FrameLocator, before: Ink[], label: string): Promise<Ink[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const now = await inks(panel);
    if (now.every((ink, i) => hasDrawn(ink) && distance(ink, before[i]) > 20)) return now;
    if (Date.now() > deadline) throw new Error(`${label}: charts kept their colours: ${JSON.stringify({ before, now })}`);
    await page.waitForTimeout(500);
  }
}

test('charts follow the colour theme', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  const setup = (dir: string) => {
    demoWorkspace(dir);
    writeJson(join(dir, 'oodlens.json'), { models: ['models/ce_seed0.onnx'], id: 'data/id_test', ood: ['data/ood_digits'], calib: 'data/id_calib' });
  };
  await withVsCode('theme', { setup }, async ({ page, screenshot }) => {
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    const panel = await waitForPanel(page);
    const light = await inks(panel);
    assert.ok(light.every((ink) => hasDrawn(ink)), `charts not drawn: ${JSON.stringify(light)}`);
    await screenshot('light');

    await pickTheme(page, 'Dark Modern', 'vs-dark');
    await panel.locator('body[data-vscode-theme-kind="vscode-dark"]').waitFor({ timeout: 30_000 });
    const dark = await waitForRedraw(page, panel, light, 'dark');
    await screenshot('dark');

    await pickTheme(page, 'Dark High Contrast', 'hc-black');
    await panel.locator('body[data-vscode-theme-kind="vscode-high-contrast"]').waitFor({ timeout: 30_000 });
    await waitForRedraw(page, panel, dark, 'high contrast');
    await screenshot('high-contrast');
  });
});
