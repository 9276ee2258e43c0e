// Scenario: a saved notebook whose outputs carry application/vnd.oodlens.report+json (test/fixtures/notebook,
// made by python/oodlens_notebook.py) opens in code-server with no kernel, and the extension's notebook renderer
// draws each report inline: charts painted on their canvases, the tables' numbers those of the report, colours
// from the theme (redrawn when it changes). A hostile name stays text; another schema version gets one line.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import type { Report } from '../../src/engine/report/types';
import { isWebviewEntry } from './browser';
import { revealInExplorer } from './explorer';
import { scenarioTimeout, withVsCode } from './harness';
import { paletteRows, pickItem, runCommand } from './palette';
import { repoRoot } from './paths';
import { canvasInk, hasDrawn, panelFrame, tableRows, type Ink } from './webview';

const MIME = 'application/vnd.oodlens.report+json';
const HOSTILE = '<img src=x onerror=alert(1)>';
const fixture = join(repoRoot, 'test', 'fixtures', 'notebook', 'report.ipynb');
const cells = JSON.parse(readFileSync(fixture, 'utf8')).cells as { outputs?: { data: Record<string, unknown> }[] }[];
const main = cells[1].outputs![0].data[MIME] as Report;

/** The first report's output root (inside its shadow root; Playwright's CSS pierces open shadow roots). */
const mainRoot = `.oodlens-notebook[data-ready="true"]:has(#models:text-is("${main.models[0].name}"))`;
const hostileRoot = '.oodlens-notebook[data-ready="true"]:has(#ood-table tr[data-model])';
const CHARTS = ['histogram', 'roc', 'pr', 'reliability-before', 'smooth-reliability', 'risk-coverage'];
const fmt = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '—');

/** Scrolls the notebook until `selector`'s top is in the upper half of the cell list (outputs out of view may not be drawn yet). */
async function scrollTo(page: Page, frame: FrameLocator, selector: string): Promise<void> {
  const target = frame.locator(selector).first();
  const area = await page.locator('.notebook-editor .cell-list-container').first().boundingBox();
  assert.ok(area, 'the notebook has no cell list');
  await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
  for (let i = 0; i < 80; i++) {
    const box = (await target.count()) ? await target.boundingBox() : null;
    if (box && box.y >= area.y && box.y < area.y + area.height / 2) return;
    await page.mouse.wheel(0, box && box.y < area.y ? -300 : 300);
    await page.waitForTimeout(200);
  }
  throw new Error(`${selector} never scrolled into view`);
}

async function inks(frame: FrameLocator): Promise<Ink[]> {
  return Promise.all(CHARTS.map((c) => canvasInk(frame, `${mainRoot} #chart-${c}`)));
}

test('a notebook output of the OOD Lens MIME type is drawn inline with the report\'s numbers', scenarioTimeout(), async () => {
  const setup = (dir: string) => copyFileSync(fixture, join(dir, 'report.ipynb'));
  await withVsCode('notebook', { setup }, async ({ page, errors, screenshot, step }) => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // A click before the extensions are registered opens the file as JSON text: wait until the palette lists ours.
    await paletteRows(page, '>OOD Lens: Open Demo', /^OOD Lens: Open Demo$/);
    await page.keyboard.press('Escape');
    await (await revealInExplorer(page, 'report.ipynb')).click();
    await page.locator('.notebook-editor .cell-list-container').first().waitFor({ timeout: 60_000 });
    const frame = panelFrame(page);
    await frame.locator(mainRoot).waitFor({ timeout: 120_000 });
    step('notebook output drawn');
    await screenshot('notebook');

    const drawn = await inks(frame);
    CHARTS.forEach((c, i) => assert.ok(hasDrawn(drawn[i]), `${c} not drawn: ${JSON.stringify(drawn[i])}`));

    // Every number in the OOD and calibration tables is the report's, as the panel formats it (3 decimals).
    const ood = await tableRows(frame, `${mainRoot} #ood-table`);
    assert.equal(ood.length, main.ood.length);
    for (const r of main.ood) {
      const row = ood.find((o) => o.model === r.model && o.split === r.split && o.score === r.score);
      assert.ok(row, `no table row for ${r.split} / ${r.score}`);
      for (const m of ['auroc', 'aupr_in', 'aupr_out', 'fpr95', 'fpr95_threshold'] as const) assert.equal(row[m], fmt(r[m]), `${r.split} ${r.score} ${m}`);
    }
    const cal = (await tableRows(frame, `${mainRoot} #calibration-table`)).find((r) => r.stage === 'before');
    for (const m of ['accuracy', 'ece', 'smece', 'ece_debiased', 'ece_toplabel', 'mce', 'nll', 'brier']) assert.equal(cal?.[m], fmt(main.calibration[0][m]), `calibration ${m}`);
    assert.equal(await frame.locator(`${mainRoot} #splits`).textContent(), main.splits.map((s) => `${s.name} (${s.role}, ${s.count})`).join(' · '));
    // The histogram's data table holds the report's counts (the chart shows the headline score, energy).
    const hist = main.histograms.find((x) => x.score === 'energy')!;
    const cellsOfBins = await frame.locator(`${mainRoot} figure[data-chart="histogram"] tbody tr`).evaluateAll((rows) =>
      rows.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => Number(td.textContent))));
    assert.deepEqual(cellsOfBins, hist.edges.slice(0, -1).map((_, i) => Object.values(hist.counts).map((c) => c[i])));

    // Themed: the text takes the theme's foreground, and the charts redraw in the new colours when it changes.
    const colours = await frame.locator(mainRoot).evaluate((el) => ({
      text: getComputedStyle(el).color,
      theme: getComputedStyle(document.body).getPropertyValue('--vscode-editor-foreground').trim(),
    }));
    assert.ok(colours.theme.length > 0, 'the notebook webview defines --vscode-editor-foreground');
    await runCommand(page, 'Preferences: Color Theme');
    await pickItem(page, 'Dark Modern');
    // The notebook webview's body has no box of its own (outputs are positioned): wait for it to be attached.
    await frame.locator('body[data-vscode-theme-kind="vscode-dark"]').waitFor({ state: 'attached', timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    let dark = await inks(frame);
    while (!dark.every((ink, i) => hasDrawn(ink) && Math.hypot(...ink.mean.map((v, j) => v - drawn[i].mean[j])) > 20)) {
      assert.ok(Date.now() < deadline, `charts kept their colours: ${JSON.stringify({ before: drawn, after: dark })}`);
      await page.waitForTimeout(500);
      dark = await inks(frame);
    }
    const darkText = await frame.locator(mainRoot).evaluate((el) => getComputedStyle(el).color);
    assert.notEqual(darkText, colours.text, 'text colour follows the theme');
    await screenshot('notebook-dark');
    await scrollTo(page, frame, `${mainRoot} #calibration-section`);
    await screenshot('notebook-calibration');

    // A report of another schema version: one line saying so, nothing drawn.
    await scrollTo(page, frame, '.oodlens-error');
    assert.match((await frame.locator('.oodlens-error').first().textContent()) ?? '', /schemaVersion 99; this version of OOD Lens reads 2/);

    // The hostile model, split and class names are shown as text and run nothing.
    await scrollTo(page, frame, `${hostileRoot}:has(#models:text-is("${HOSTILE}"))`);
    const inHostile = await frame.locator(`${hostileRoot}:has(#models:text-is("${HOSTILE}"))`).evaluate((el, s) => ({
      injected: el.querySelectorAll('img[src="x"], [onerror]').length,
      galleryCaptions: [...el.querySelectorAll('.gallery .sample span')].filter((c) => (c.textContent ?? '').includes(s)).length,
    }), HOSTILE);
    assert.equal(inHostile.injected, 0, 'a name was parsed as HTML');
    assert.ok(inHostile.galleryCaptions > 0, 'the gallery lists the hostile split as text');
    await screenshot('notebook-hostile');
    assert.deepEqual(dialogs, [], 'dialogs opened from the notebook');
    assert.deepEqual(errors.filter(isWebviewEntry), [], 'console errors from the notebook webview');
  });
});
