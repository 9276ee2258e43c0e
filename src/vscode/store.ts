// The report the extension currently shows, shared by the panel, status bar, CodeLens, decorations and diagnostics.
import * as vscode from 'vscode';
import type { GateResult } from '../engine/gates';
import type { Report } from '../engine/report/types';
import { parseReport } from './reportFile';

export interface Shown {
  report: Report;
  /** Where the JSON report lives (restored from after a reload). */
  file: string;
  /** "oodlens.json", "demo", a dataset folder… */
  origin: string;
  /** Folder relative sample paths are resolved against. */
  baseDir?: string;
  gates: GateResult[];
  /** The oodlens.json whose gates were evaluated. */
  configPath?: string;
}

const LAST_REPORT_KEY = 'oodLens.lastReport';

export class ReportStore implements vscode.Disposable {
  private shown?: Shown;
  private readonly changed = new vscode.EventEmitter<Shown>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  get current(): Shown | undefined {
    return this.shown;
  }

  set(shown: Shown): void {
    this.shown = shown;
    void this.state.update(LAST_REPORT_KEY, { file: shown.file, origin: shown.origin, baseDir: shown.baseDir, configPath: shown.configPath });
    this.changed.fire(shown);
  }

  /** The last report of this workspace, read from disk when nothing is loaded yet. */
  async restore(file?: string): Promise<Shown | undefined> {
    if (this.shown && (file === undefined || file === this.shown.file)) return this.shown;
    const last = this.state.get<Omit<Shown, 'report' | 'gates'>>(LAST_REPORT_KEY);
    const target = file ?? last?.file;
    if (!target) return undefined;
    const report = await loadReport(vscode.Uri.file(target));
    if (!report) return undefined;
    const meta = last?.file === target ? last : undefined;
    this.set({ report, file: target, origin: meta?.origin ?? 'saved report', baseDir: meta?.baseDir, configPath: meta?.configPath, gates: [] });
    return this.shown;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export async function loadReport(uri: vscode.Uri): Promise<Report | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
  const { report, error } = parseReport(text);
  if (error) void vscode.window.showWarningMessage(`OOD Lens: ${uri.fsPath} is not a report: ${error}.`);
  return report;
}
