// Watch mode (oodLens.watch.enabled): when a model file of the last run changes (re-exported, re-trained),
// the run is repeated and the panel refreshes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Runner } from './runner';
import { SECTION, watchEnabled } from './settings';
import type { ReportStore } from './store';

// Exporters write a model in several steps: wait for the file to settle.
const SETTLE_MS = 1500;

export class ModelWatcher implements vscode.Disposable {
  private watchers: vscode.FileSystemWatcher[] = [];
  private watched = '';
  private timer?: NodeJS.Timeout;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly runner: Runner, store: ReportStore, private readonly log: vscode.LogOutputChannel) {
    this.disposables = [
      store.onDidChange(() => this.sync()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.watch.enabled`) && this.sync()),
    ];
  }

  private sync(): void {
    const models = watchEnabled() ? this.runner.lastRequest?.models ?? [] : [];
    const key = models.join('\n');
    if (key === this.watched) return;
    this.clear();
    this.watched = key;
    for (const model of models) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(model)), path.basename(model)), true);
      w.onDidChange(() => this.changed(model));
      w.onDidCreate(() => this.changed(model));
      this.watchers.push(w);
    }
    if (models.length) this.log.info(`watching ${models.length} model file(s) for changes`);
  }

  private changed(model: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.log.info(`${path.basename(model)} changed: re-running`);
      void this.runner.rerun();
    }, SETTLE_MS);
  }

  private clear(): void {
    this.watchers.forEach((w) => w.dispose());
    this.watchers = [];
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.clear();
    this.disposables.forEach((d) => d.dispose());
  }
}

