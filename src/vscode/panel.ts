// The report panel: one WebviewPanel beside the editor, restored after a reload by the serializer.
// The host validates every message; a sample is revealed only if it is one of the current report's samples.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { selectGallery } from '../shared/gallery';
import { type ChartId, type Progress, type ToWebviewMessage, type ViewPayload, type WebviewState, parseFromWebview, toViewReport } from '../shared/protocol';
import { pickOperatingPoint, useAsDeploymentThreshold } from './deploymentThreshold';
import { panelHtml } from './panelHtml';
import { sampleFile, splitFolders } from './samples';
import type { ReportStore, Shown } from './store';

export const VIEW_TYPE = 'oodLens.report';
const CHART_TIMEOUT_MS = 10_000;

export class ReportPanel implements vscode.Disposable {
  private static instance?: ReportPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private nextRequest = 1;
  private readonly pending = new Map<number, (dataUrl: string | null) => void>();
  private shownSamples = new Set<string>();
  private rootsKey = '';

  static show(ctx: vscode.ExtensionContext, store: ReportStore): ReportPanel {
    if (ReportPanel.instance) {
      ReportPanel.instance.panel.reveal(vscode.ViewColumn.Beside, true);
      ReportPanel.instance.render();
      return ReportPanel.instance;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'OOD Lens', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: baseRoots(ctx) });
    return (ReportPanel.instance = new ReportPanel(panel, ctx, store));
  }

  static get current(): ReportPanel | undefined {
    return ReportPanel.instance;
  }

  static serializer(ctx: vscode.ExtensionContext, store: ReportStore): vscode.WebviewPanelSerializer<WebviewState> {
    return {
      async deserializeWebviewPanel(panel, state) {
        // The state comes from the webview: only a .json path is accepted, and loadReport validates the content.
        if (typeof state?.reportFile === 'string' && state.reportFile.endsWith('.json')) await store.restore(state.reportFile);
        else await store.restore();
        ReportPanel.instance?.dispose();
        ReportPanel.instance = new ReportPanel(panel, ctx, store);
      },
    };
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly ctx: vscode.ExtensionContext, private readonly store: ReportStore) {
    const webview = panel.webview;
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'icon.png');
    webview.options = { enableScripts: true, localResourceRoots: baseRoots(ctx) };
    webview.html = panelHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(ctx.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(ctx.extensionUri, 'media', 'report.css')).toString(),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((m) => this.receive(m)),
      store.onDidChange(() => this.render()),
    );
  }

  /** Resolves once the webview script has started (it sends `ready`). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  post(message: ToWebviewMessage): void {
    void this.panel.webview.postMessage(message);
  }

  runStatus(label: string | undefined, progress?: Progress): void {
    this.post(label === undefined ? { type: 'idle' } : { type: 'running', label, progress });
  }

  /** The chart as a PNG data URL; null when it is not drawn or the panel does not answer in time. */
  chartImage(chart: ChartId): Promise<string | null> {
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.pending.delete(requestId); resolve(null); }, CHART_TIMEOUT_MS);
      this.pending.set(requestId, (url) => { clearTimeout(timer); resolve(url); });
      void this.whenReady().then(() => this.post({ type: 'chartImageRequest', requestId, chart }));
    });
  }

  private render(): void {
    const shown = this.store.current;
    if (!shown || !this.ready) return;
    // Thumbnails are served only from the folders of this report's splits.
    const roots = [...baseRoots(this.ctx), ...splitFolders(shown.report, shown.baseDir).map((f) => vscode.Uri.file(f))];
    const key = roots.map((r) => r.toString()).join('\n');
    if (key !== this.rootsKey) {
      this.rootsKey = key;
      this.panel.webview.options = { enableScripts: true, localResourceRoots: roots };
    }
    this.panel.title = `OOD Lens · ${shown.origin}`;
    this.shownSamples = new Set(shown.report.samples.map((s) => s.path));
    this.post({ type: 'show', payload: this.payload(shown) });
  }

  private payload(shown: Shown): ViewPayload {
    const { report } = shown;
    const gallery = selectGallery(report);
    const fileSplits = new Set(report.splits.filter((s) => !/^(noise|holdout):/.test(s.source)).map((s) => s.name));
    if (gallery) {
      for (const item of gallery.items) {
        const file = fileSplits.has(item.split) ? sampleFile(item.path, shown.baseDir) : undefined;
        if (file) item.src = this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString();
      }
    }
    return { report: toViewReport(report, true), gallery, gates: shown.gates, origin: shown.origin, reportFile: shown.file, history: shown.history, configFile: shown.configPath };
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parseFromWebview(raw);
    if (!m) return;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.readyWaiters.splice(0).forEach((r) => r());
        this.render();
        break;
      case 'revealSample': {
        const shown = this.store.current;
        if (!shown || !this.shownSamples.has(m.path)) return;
        const file = sampleFile(m.path, shown.baseDir);
        if (file) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(file));
        break;
      }
      case 'exportChart':
        await vscode.commands.executeCommand('oodLens.exportReport', { chart: m.chart, dataUrl: m.dataUrl });
        break;
      case 'chartImageResponse':
        this.pending.get(m.requestId)?.(m.dataUrl);
        this.pending.delete(m.requestId);
        break;
      case 'operatingPointRequest':
        this.post({ type: 'operatingPoint', requestId: m.requestId, ...(await pickOperatingPoint(this.store, m.model, m.score, m.at)) });
        break;
      case 'useThreshold':
        await useAsDeploymentThreshold(this.store, m.model, m.score, m.threshold);
        break;
    }
  }

  dispose(): void {
    if (ReportPanel.instance === this) ReportPanel.instance = undefined;
    for (const resolve of this.pending.values()) resolve(null);
    this.pending.clear();
    this.disposables.splice(0).forEach((d) => d.dispose());
    this.panel.dispose();
  }
}

function baseRoots(ctx: vscode.ExtensionContext): vscode.Uri[] {
  return [vscode.Uri.joinPath(ctx.extensionUri, 'media'), vscode.Uri.joinPath(ctx.extensionUri, 'dist')];
}
