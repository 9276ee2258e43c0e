// Scenario 5: cancel a long run (a large synthetic-noise OOD split) → its progress notification goes away
// within seconds, the panel shows the partial banner, and nothing reports an error.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isWebviewEntry } from './browser';
import { demoAvailable, demoWorkspace, writeJson } from './fixtures';
import { scenarioTimeout, withVsCode } from './harness';
import { waitForPanel } from './webview';
import { notificationToasts } from './notifications';
import { runCommand } from './palette';

test('cancelling a long run leaves a partial report and no errors', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  const setup = (dir: string) => {
    demoWorkspace(dir);
    // Hundreds of thousands of noise images: minutes of work, far longer than the test waits.
    writeJson(join(dir, 'oodlens.json'), { models: ['models/ce_seed0.onnx'], id: 'data/id_test', ood: ['noise:500000'], calib: 'data/id_calib' });
  };
  await withVsCode('cancel', { setup }, async ({ page, errors, screenshot, step }) => {
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    const progress = notificationToasts(page).filter({ hasText: /OOD Lens: Running/ }).first();
    await progress.waitFor({ timeout: 60_000 });
    // Cancel once the run reports progress, so there is something to keep.
    const first = await progress.textContent();
    await page.waitForFunction(
      ([el, before]) => (el as HTMLElement).textContent !== before,
      [await progress.elementHandle(), first] as const,
      { timeout: 60_000 },
    ).catch(() => undefined);
    await screenshot('running');
    step('run in progress');

    const clicked = Date.now();
    await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await progress.waitFor({ state: 'hidden', timeout: 30_000 });
    const closedMs = Date.now() - clicked;
    step(`progress notification gone ${closedMs} ms after Cancel`);
    assert.ok(closedMs < 5_000, `progress notification took ${closedMs} ms to go after Cancel`);

    const panel = await waitForPanel(page);
    await panel.locator('#partial-banner').waitFor({ timeout: 30_000 });
    await screenshot('partial');
    const errorToasts = await notificationToasts(page).filter({ has: page.locator('.codicon-error') }).allTextContents();
    assert.deepEqual(errorToasts, [], 'error notifications');
    assert.deepEqual(errors.filter(isWebviewEntry), [], 'console errors from the webview');
  });
});
