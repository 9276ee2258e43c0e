// Status bar: the headline numbers of the shown report, or the running job; a click opens the panel.
import * as vscode from 'vscode';
import { formatHeadlineDelta } from '../engine/history/metrics';
import { headline } from '../shared/headline';
import type { Progress } from '../engine/run';
import type { RunListener } from './runner';
import type { ReportStore } from './store';

export class HeadlineStatus implements RunListener, vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('oodLens.headline', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;
  private running = false;

  constructor(private readonly store: ReportStore) {
    this.item.name = 'OOD Lens';
    this.item.command = 'oodLens.openLastReport';
    this.subscription = store.onDidChange(() => this.update());
    this.update();
  }

  started(label: string): void {
    this.running = true;
    this.item.text = '$(sync~spin) OOD Lens';
    this.item.tooltip = label;
    this.item.show();
  }

  progress(label: string, p: Progress): void {
    if (p.phase === 'scoring') this.item.text = `$(sync~spin) OOD Lens ${p.done}/${p.total}`;
    this.item.tooltip = label;
  }

  finished(): void {
    this.running = false;
    this.update();
  }

  private update(): void {
    if (this.running) return;
    const shown = this.store.current;
    const h = shown && headline(shown.report);
    if (!shown || !h) {
      this.item.hide();
      return;
    }
    const failed = shown.gates.filter((g) => !g.passed).length;
    const previous = shown.history?.previous;
    this.item.text = `$(graph) ${formatHeadlineDelta(h, previous?.metrics)}${failed ? ` $(error) ${failed}` : ''}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.isTrusted = false;
    tip.appendText(`OOD Lens · ${shown.origin}\n\n`);
    tip.appendText(`Model ${h.model}, score ${h.score ?? '—'}`);
    if (h.auroc) tip.appendText(`\nAUROC ${h.auroc.value.toFixed(3)} on ${h.auroc.split} (weakest OOD split)`);
    if (h.ece) tip.appendText(`\nECE ${h.ece.value.toFixed(3)} on ${h.ece.split}`);
    if (shown.gates.length) tip.appendText(`\nGates: ${shown.gates.length - failed}/${shown.gates.length} passed`);
    if (previous) tip.appendText(`\nChanges (±) since the previous run of ${previous.origin}, ${new Date(previous.createdAt).toLocaleString()}`);
    tip.appendText('\n\nClick to open the report.');
    this.item.tooltip = tip;
    this.item.backgroundColor = failed ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
