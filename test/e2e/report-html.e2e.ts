// Scenario 7: the CLI's self-contained HTML report opens from file:// with no network request and no script
// error; a class folder named like an HTML payload shows as text, in the report and in the panel, and
// runs nothing.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { isWebviewEntry } from './browser';
import { cliScore } from './cli';
import { demoAvailable, demoWorkspace, writeJson, type DemoWorkspace } from './fixtures';
import { demoDir } from './paths';
import { scenarioTimeout, withVsCode } from './harness';
import { waitForPanel } from './webview';
import { runCommand } from './palette';

const payload = '<img src=x onerror=alert(1)>';

/**
 * Where the payload ended up: shown verbatim (as rendered text or a tooltip/attribute, so escaped), or parsed
 * into elements. Embedded data (script and style contents) does not count as shown.
 */
function inspect(body: Locator) {
  return body.evaluate((root, s) => {
    const hidden = (n: Node) => !!n.parentElement?.closest('script, style, template');
    const texts: string[] = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (!hidden(n)) texts.push(n.textContent ?? '');
    const attrs = [...root.querySelectorAll('*')].filter((e) => !e.closest('script, style, template')).flatMap((e) => [...e.attributes].map((a) => a.value));
    return {
      asText: texts.some((t) => t.includes(s)) || attrs.some((a) => a.includes(s)),
      injected: root.querySelectorAll('img[src="x"], [onerror]').length,
    };
  }, payload);
}

function listenForDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return dialogs;
}

test('the HTML report is self-contained and shows a hostile folder name as text, as does the panel', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  let ws!: DemoWorkspace;
  const setup = (dir: string) => {
    ws = demoWorkspace(dir);
    // An OOD split whose only class folder has the hostile name: its images fill the sample gallery.
    const hostile = join(dir, 'data', 'ood_hostile', payload);
    mkdirSync(hostile, { recursive: true });
    const digits = join(demoDir, 'data', 'ood_digits', '7');
    for (const f of readdirSync(digits).sort().slice(0, 20)) cpSync(join(digits, f), join(hostile, f));
    writeJson(join(dir, 'oodlens.json'), { models: ['models/ce_seed0.onnx'], id: 'data/id_test', ood: ['data/ood_hostile'], calib: 'data/id_calib' });
  };
  await withVsCode('report-html', { setup }, async ({ page, out, errors, screenshot, step }) => {
    const html = join(out, 'report.html');
    await cliScore({ model: ws.model, id: ws.split('id_test'), ood: [ws.split('ood_hostile')], calib: ws.split('id_calib'), json: join(out, 'cli.json'), html });
    step('CLI report written');

    const report = await page.context().browser()!.newPage();
    const requests: string[] = [];
    const reportErrors: string[] = [];
    report.on('request', (r) => !/^(file|data|blob):/.test(r.url()) && requests.push(r.url()));
    report.on('pageerror', (e) => reportErrors.push(String(e)));
    report.on('console', (m) => m.type() === 'error' && reportErrors.push(m.text()));
    const reportDialogs = listenForDialogs(report);
    await report.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await report.locator('#ood-table').waitFor({ timeout: 30_000 });
    await report.screenshot({ path: join(out, 'report.png'), fullPage: true });
    const inReport = await inspect(report.locator('body'));
    assert.deepEqual(requests, [], 'network requests from the HTML report');
    assert.deepEqual(reportErrors, [], 'script errors in the HTML report');
    assert.deepEqual(reportDialogs, [], 'dialogs opened by the HTML report');
    assert.equal(inReport.injected, 0, 'the folder name was parsed as HTML in the report');
    assert.ok(inReport.asText, 'the folder name does not appear in the report');
    await report.close();

    const panelDialogs = listenForDialogs(page);
    await runCommand(page, 'OOD Lens: Run Workspace Config');
    const panel = await waitForPanel(page);
    await screenshot('panel');
    const inPanel = await inspect(panel.locator('body'));
    assert.deepEqual(panelDialogs, [], 'dialogs opened from the panel');
    assert.equal(inPanel.injected, 0, 'the folder name was parsed as HTML in the panel');
    assert.ok(inPanel.asText, 'the folder name does not appear in the panel');
    assert.deepEqual(errors.filter(isWebviewEntry), [], 'console errors from the webview');
  });
});
