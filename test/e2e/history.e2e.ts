// Scenario: the developer's loop. Run the config, "retrain" (another model file in the same place), run again: the
// panel shows each headline number's change since the first run (equal to the kept history's numbers), a trend
// chart, and the status bar says "AUROC x (±d)". A click on the score histogram shows the operating point, whose
// counts match the report's samples; Use as deployment threshold writes it to oodlens.json and the gates use it.
// Compare Reports (Enter through its questions: the previous run against the latest) shows A, B and B − A.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import type { HistoryIndex } from '../../src/engine/history/types';
import type { Report } from '../../src/engine/report/types';
import { isWebviewEntry } from './browser';
import { demoAvailable, demoWorkspace, writeJson } from './fixtures';
import { scenarioTimeout, type Session, withVsCode } from './harness';
import { demoDir } from './paths';
import { acceptPrompts, runCommand } from './palette';
import { canvasInk, hasDrawn, panelFrame, waitForPanel } from './webview';

const MINUS = '\u2212';
const signed = (d: number) => (Math.abs(d) < 5e-4 ? '±0.000' : `${d > 0 ? '+' : MINUS}${Math.abs(d).toFixed(3)}`);

/** The frame (of any webview) that holds `selector`: the report and compare panels run the same script. */
async function frameWith(page: Page, selector: string, timeoutMs = 60_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) if (await f.locator(selector).count().catch(() => 0)) return f;
    if (Date.now() > deadline) throw new Error(`no webview frame shows ${selector}`);
    await page.waitForTimeout(500);
  }
}

async function waitForFile<T>(file: string, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = JSON.parse(readFileSync(file, 'utf8')) as T;
      if (ok(v)) return v;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`${file} never reached the expected content`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

type Entry = HistoryIndex['entries'][number];
const aurocOf = (e: Entry, split: string) => e.metrics.ood.find((r) => r.model === 'ce_seed0' && r.score === 'energy' && r.split === split)!.auroc!;

/** Second run: each AUROC's Δ equals the kept history's numbers; trend and status bar. */
async function checkDeltas(s: Session, reports: string): Promise<[Entry, Entry]> {
  const panel = panelFrame(s.page);
  const index = await waitForFile<HistoryIndex>(join(reports, 'history.json'), (v) => v.entries.length === 2);
  const [first, second] = index.entries;
  assert.notEqual(first.models[0].sha256, second.models[0].sha256, 'the re-exported model has another hash');
  for (const split of ['ood_heldout', 'ood_digits']) {
    const d = aurocOf(second, split) - aurocOf(first, split);
    const badge = panel.locator(`#headline li[data-metric="auroc"][data-split="${split}"] .delta`);
    assert.equal((await badge.textContent())!.trim().slice(2), signed(d), `AUROC Δ on ${split}`);
    assert.equal(await badge.getAttribute('data-change'), Math.abs(d) < 5e-4 ? 'same' : d > 0 ? 'better' : 'worse');
  }
  assert.ok(hasDrawn(await canvasInk(panel, '#chart-trend')), 'trend chart drawn');
  assert.equal(await panel.locator('#trend-table tbody tr').count(), 2);
  await s.page.locator('.statusbar-item', { hasText: /AUROC \d\.\d{3} \((\+|\u2212|±)\d\.\d{3}\)/ }).first().waitFor({ timeout: 30_000 });
  await s.screenshot('delta');
  await panel.locator('#history-section').scrollIntoViewIfNeeded();
  await s.screenshot('trend');
  return [first, second];
}

/** A click inside the histogram's plot area: the counts match the report's samples at the shown threshold. */
async function checkOperatingPoint(s: Session, reports: string): Promise<{ threshold: number; idFraction: string }> {
  const panel = panelFrame(s.page);
  const canvas = panel.locator('#chart-histogram');
  const box = (await canvas.boundingBox())!;
  await canvas.click({ position: { x: box.width * 0.45, y: box.height * 0.4 } });
  await panel.locator('#op-confusion').waitFor({ timeout: 30_000 });
  const threshold = Number(await panel.locator('#op-threshold').inputValue());
  const latest = JSON.parse(readFileSync(join(reports, 'latest.json'), 'utf8')) as Report;
  const flagged = (split: string) => latest.samples.filter((x) => x.split === split && (x.scores.ce_seed0.energy as number) > threshold).length;
  const size = (split: string) => latest.samples.filter((x) => x.split === split && typeof x.scores.ce_seed0.energy === 'number').length;
  for (const split of ['ood_heldout', 'ood_digits']) {
    const row = panel.locator(`#op-confusion tr[data-split="${split}"]`);
    const cell = async (m: string) => (await row.locator(`td[data-metric="${m}"]`).textContent())!.trim();
    assert.equal(await cell('tp'), String(flagged(split)), `TP on ${split}`);
    assert.equal(await cell('fp'), String(flagged('id_test')), 'FP');
    assert.equal(await cell('fn'), String(size(split) - flagged(split)));
    assert.equal(await cell('tpr'), (flagged(split) / size(split)).toFixed(3));
    assert.equal(await cell('fpr'), (flagged('id_test') / size('id_test')).toFixed(3));
  }
  assert.ok(hasDrawn(await canvasInk(panel, '#chart-histogram')));
  await panel.locator('#operating-point').scrollIntoViewIfNeeded();
  await s.screenshot('operating-point');
  return { threshold, idFraction: (flagged('id_test') / size('id_test')).toFixed(3) };
}

/** Use as deployment threshold: written to oodlens.json, and the ID-flagged gate reads it. */
async function checkUseThreshold(s: Session, ws: string, pick: { threshold: number; idFraction: string }): Promise<void> {
  const panel = panelFrame(s.page);
  await panel.locator('#use-threshold').click();
  const config = await waitForFile<{ thresholds?: { model: string; score: string; threshold: number }[] }>(join(ws, 'oodlens.json'), (v) => !!v.thresholds?.length);
  assert.deepEqual(config.thresholds, [{ model: 'ce_seed0', score: 'energy', threshold: pick.threshold }]);
  const gate = panel.locator('#gates li[data-gate="/gates/id_flagged_max"]');
  await gate.filter({ hasText: /set in the config/ }).waitFor({ timeout: 30_000 });
  assert.match((await gate.textContent())!, new RegExp(`ID flagged ${pick.idFraction.replace('.', '\\.')} for ce_seed0 on id_test`));
  await panel.locator('#gates').scrollIntoViewIfNeeded();
  await s.screenshot('threshold-used');
}

/** Compare Reports, Enter through its questions: the previous run (A) against the latest (B). */
async function checkCompare(s: Session, [first, second]: [Entry, Entry]): Promise<void> {
  await runCommand(s.page, 'OOD Lens: Compare Reports…');
  const prompts = await acceptPrompts(s.page, 3);
  assert.match(prompts[0].active, /Two kept runs/);
  const compare = await frameWith(s.page, 'body[data-compare-ready="true"]');
  const row = compare.locator('#compare-table tr[data-split="ood_heldout"]');
  const text = async (m: string) => (await row.locator(`td[data-metric="${m}"]`).textContent())!.trim();
  assert.equal(await text('auroc_a'), aurocOf(first, 'ood_heldout').toFixed(3));
  assert.equal(await text('auroc_b'), aurocOf(second, 'ood_heldout').toFixed(3));
  assert.equal((await text('auroc_delta')).slice(2), signed(aurocOf(second, 'ood_heldout') - aurocOf(first, 'ood_heldout')));
  for (const id of ['#chart-compare-histogram', '#chart-compare-roc']) {
    const share = await compare.locator(id).evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) painted++;
      return painted / (d.length / 4);
    });
    assert.ok(share > 0.01, `${id} drawn`);
  }
  assert.match((await compare.locator('#compare-flag-counts').textContent())!, /newly flagged by B, \d+ no longer flagged, of \d+ samples/);
  await s.screenshot('compare');
}

test('run twice: Δ and trend; pick an operating point and use it; compare the two runs', { ...scenarioTimeout(), skip: !demoAvailable() && 'demo data not built yet' }, async () => {
  let ws = '';
  const setup = (dir: string) => {
    ws = dir;
    demoWorkspace(dir);
    writeJson(join(dir, 'oodlens.json'), {
      models: ['models/ce_seed0.onnx'], id: 'data/id_test', ood: ['data/ood_heldout', 'data/ood_digits'], calib: 'data/id_calib',
      scores: ['energy', 'msp'], gates: { auroc_min: 0.5, id_flagged_max: 0.5 },
    });
  };
  await withVsCode('history', { setup }, async (s) => {
    const reports = join(ws, '.oodlens', 'reports');
    await runCommand(s.page, 'OOD Lens: Run Workspace Config');
    const panel = await waitForPanel(s.page);
    await panel.locator('#history-since', { hasText: /first kept run/ }).waitFor({ timeout: 30_000 });
    s.step('first run shown');
    // "Retrain and re-export": another model's bytes at the same path.
    copyFileSync(join(demoDir, 'models', 'ce_seed1.onnx'), join(ws, 'models', 'ce_seed0.onnx'));
    await runCommand(s.page, 'OOD Lens: Run Workspace Config');
    await panelFrame(s.page).locator('#headline li[data-metric="auroc"] .delta').first().waitFor({ timeout: 180_000 });
    await waitForPanel(s.page);
    const runs = await checkDeltas(s, reports);
    s.step('second run shown with deltas');
    const pick = await checkOperatingPoint(s, reports);
    s.step('operating point shown');
    await checkUseThreshold(s, ws, pick);
    s.step('deployment threshold written and used by the gates');
    await checkCompare(s, runs);
    s.step('compare shown');
    assert.deepEqual(s.errors.filter(isWebviewEntry), [], 'console errors from the webviews');
  });
});
