// Explorer badges on images the deployment threshold flags as OOD (headline model and score of the shown report).
import * as vscode from 'vscode';
import { decorationsEnabled, SECTION } from './settings';
import { type Flag, flaggedSamples } from './samples';
import type { ReportStore } from './store';

export class OodDecorations implements vscode.FileDecorationProvider, vscode.Disposable {
  private flags = new Map<string, Flag>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly store: ReportStore) {
    this.disposables = [
      store.onDidChange(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.decorations.enabled`) && this.refresh()),
    ];
    this.refresh();
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== 'file') return undefined;
    const f = this.flags.get(uri.fsPath);
    if (!f) return undefined;
    return {
      badge: 'O',
      tooltip: `OOD Lens: flagged OOD (${f.model}, ${f.score} ${f.value.toFixed(3)} > ${f.configured ? 'the threshold set in oodlens.json' : 'threshold'} ${f.threshold.toFixed(3)})`,
      color: new vscode.ThemeColor('list.warningForeground'),
    };
  }

  private refresh(): void {
    const shown = this.store.current;
    const previous = [...this.flags.keys()];
    this.flags = shown && decorationsEnabled() ? flaggedSamples(shown.report, shown.baseDir) : new Map();
    const touched = new Set([...previous, ...this.flags.keys()]);
    this.changed.fire([...touched].map((p) => vscode.Uri.file(p)));
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}
