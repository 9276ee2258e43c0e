// Export Report: HTML (stand-alone), JSON, CSV of per-sample scores, or a PNG of one chart.
// Files are written with workspace.fs wherever the save dialog points.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CHART_IDS, type ChartId } from '../shared/protocol';
import { ReportPanel } from './panel';
import type { ReportStore, Shown } from './store';

type Format = 'html' | 'json' | 'csv' | 'png';

const FORMATS: { label: string; detail: string; format: Format }[] = [
  { label: 'HTML report', detail: 'One self-contained file with every chart and table; opens in any browser, offline', format: 'html' },
  { label: 'JSON report', detail: 'The full report (schema version 1) for scripts and CI', format: 'json' },
  { label: 'CSV of per-sample scores', detail: 'One row per sample: path, split, label, prediction and every score', format: 'csv' },
  { label: 'PNG of a chart', detail: 'A chart of the open report panel', format: 'png' },
];
const FILTERS: Record<Format, Record<string, string[]>> = { html: { HTML: ['html'] }, json: { JSON: ['json'] }, csv: { CSV: ['csv'] }, png: { PNG: ['png'] } };

/** A chart pushed by the panel's "Save PNG…" button. */
export interface ChartExport { chart: ChartId; dataUrl: string }

export async function exportReport(ctx: vscode.ExtensionContext, store: ReportStore, chart?: ChartExport): Promise<void> {
  const shown = store.current ?? (await store.restore());
  if (!shown) {
    void vscode.window.showInformationMessage('OOD Lens: no report to export yet. Score a dataset first.');
    return;
  }
  if (chart) {
    await saveBytes(shown, `${chart.chart}.png`, 'png', pngBytes(chart.dataUrl));
    return;
  }
  const pick = await vscode.window.showQuickPick(FORMATS, { title: 'Export OOD Lens report' });
  if (!pick) return;
  switch (pick.format) {
    case 'html': {
      const { renderHtmlReport, loadHtmlAssets } = await import('../engine/report/html');
      const { galleryThumbnails } = await import('../engine/report/thumbnails');
      const thumbnails = await galleryThumbnails(shown.report, shown.baseDir);
      const html = renderHtmlReport(shown.report, loadHtmlAssets(ctx.extensionUri.fsPath), { gates: shown.gates, origin: shown.origin, thumbnails });
      await saveBytes(shown, 'report.html', 'html', new TextEncoder().encode(html));
      break;
    }
    case 'json': {
      const { reportJson } = await import('../engine/report/write');
      await saveBytes(shown, 'report.json', 'json', new TextEncoder().encode(reportJson(shown.report)));
      break;
    }
    case 'csv': {
      const { samplesCsv } = await import('../engine/report/write');
      await saveBytes(shown, 'samples.csv', 'csv', new TextEncoder().encode(samplesCsv(shown.report)));
      break;
    }
    case 'png': {
      const id = await vscode.window.showQuickPick(CHART_IDS.map((c) => ({ label: c })), { title: 'Chart to save' });
      if (!id) return;
      const panel = ReportPanel.current ?? ReportPanel.show(ctx, store);
      const url = await panel.chartImage(id.label);
      if (!url) {
        void vscode.window.showWarningMessage(`OOD Lens: the "${id.label}" chart is not drawn for this report.`);
        return;
      }
      await saveBytes(shown, `${id.label}.png`, 'png', pngBytes(url));
      break;
    }
  }
}

function pngBytes(dataUrl: string): Uint8Array {
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
}

async function saveBytes(shown: Shown, name: string, format: Format, bytes: Uint8Array): Promise<void> {
  const target = await vscode.window.showSaveDialog({
    title: 'Export OOD Lens report',
    defaultUri: vscode.Uri.file(path.join(path.dirname(shown.file), name)),
    filters: FILTERS[format],
  });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, bytes);
  const open = await vscode.window.showInformationMessage(`OOD Lens: saved ${path.basename(target.fsPath)}.`, 'Reveal');
  if (open) await vscode.commands.executeCommand('revealFileInOS', target);
}
