// The Compare Reports panel: a second webview (same script as the report panel) showing two sides and their diff.
// It holds no state worth restoring after a reload, so it has no serializer. Reveal requests are honoured only for
// the changed samples it shows.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { CompareSide, ReportDiff } from '../engine/compare/diff';
import type { HistoryModel } from '../engine/history/types';
import { type ComparePayload, type CompareSideView, parseFromWebview } from '../shared/protocol';
import { panelHtml } from './panelHtml';
import { sampleFile, splitFolders } from './samples';

export const COMPARE_VIEW_TYPE = 'oodLens.compare';

export interface ShownSide extends CompareSide {
  /** Folder that relative sample paths of this side are resolved against. */
  baseDir?: string;
  /** The model files as kept in the history (with their hash), else the report's. */
  files?: HistoryModel[];
}

export class ComparePanel implements vscode.Disposable {
  private static instance?: ComparePanel;
  private readonly disposables: vscode.Disposable[] = [];
  private files = new Map<string, string>();
  private payload?: ComparePayload;

  static show(ctx: vscode.ExtensionContext, a: ShownSide, b: ShownSide, diff: ReportDiff): void {
    ComparePanel.instance?.dispose();
    const roots = [vscode.Uri.joinPath(ctx.extensionUri, 'media'), vscode.Uri.joinPath(ctx.extensionUri, 'dist'),
      ...[...new Set([a, b].flatMap((s) => splitFolders(s.report, s.baseDir)))].map((f) => vscode.Uri.file(f))];
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, `Compare: ${a.label} ↔ ${b.label}`, vscode.ViewColumn.Active,
      { enableScripts: true, localResourceRoots: roots });
    ComparePanel.instance = new ComparePanel(panel, ctx, a, b, diff);
  }

  private constructor(private readonly panel: vscode.WebviewPanel, ctx: vscode.ExtensionContext, a: ShownSide, b: ShownSide, diff: ReportDiff) {
    const webview = panel.webview;
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'icon.png');
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ctx.extensionUri, 'media', 'report.css')).toString(),
    });
    const thumbnails: Record<string, string> = {};
    for (const item of diff.flags.flatMap((f) => f.items)) {
      const side = [a, b].find((s) => s.report.splits.some((sp) => sp.name === item.split && !/^(noise|holdout):/.test(sp.source)));
      const file = side && sampleFile(item.path, side.baseDir);
      if (!file) continue;
      this.files.set(item.path, file);
      thumbnails[item.path] = webview.asWebviewUri(vscode.Uri.file(file)).toString();
    }
    this.payload = { a: sideView(a), b: sideView(b), diff, thumbnails };
    this.disposables.push(panel.onDidDispose(() => this.dispose()), webview.onDidReceiveMessage((m) => this.receive(m)));
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseFromWebview(raw);
    if (!m) return;
    if (m.type === 'ready' && this.payload) void this.panel.webview.postMessage({ type: 'compare', payload: this.payload });
    else if (m.type === 'revealSample') {
      const file = this.files.get(m.path);
      if (file) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(file));
    } else if (m.type === 'exportChart') await vscode.commands.executeCommand('oodLens.exportReport', { chart: m.chart, dataUrl: m.dataUrl });
  }

  dispose(): void {
    if (ComparePanel.instance === this) ComparePanel.instance = undefined;
    this.disposables.splice(0).forEach((d) => d.dispose());
    this.panel.dispose();
  }
}

function sideView(s: ShownSide): CompareSideView {
  const r = s.report;
  return {
    label: s.label,
    model: s.model,
    createdAt: r.createdAt,
    splits: r.splits.map((x) => ({ name: x.name, role: x.role })),
    files: s.files ?? r.models.map((m) => ({ name: m.name, path: m.path })),
    histograms: r.histograms.filter((h) => h.model === s.model),
    curves: r.curves.filter((c) => c.model === s.model),
  };
}
