// The report the extension currently shows, shared by the panel, status bar, CodeLens, decorations and diagnostics.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GateResult } from '../engine/gates';
import type { Report } from '../engine/report/types';
import type { HistoryContext } from '../engine/history/types';
import { loadHistoryContext } from './history';
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
  /** Earlier runs of the same config or models, when this report was kept in the history. */
  history?: HistoryContext;
}

const LAST_REPORT_KEY = 'oodLens.lastReport';

type Meta = Omit<Shown, 'report' | 'gates' | 'history'>;

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

  /**
   * The last report of this workspace, read from disk when nothing is loaded yet: the one remembered in
   * workspaceState, else `.oodlens/reports/latest.json` of a workspace folder.
   */
  async restore(file?: string): Promise<Shown | undefined> {
    if (this.shown && (file === undefined || file === this.shown.file)) return this.shown;
    const last = this.state.get<Meta>(LAST_REPORT_KEY);
    const candidates: Meta[] = file !== undefined
      ? [last?.file === file ? last : { file, origin: 'saved report' }]
      : [...(last ? [last] : []), ...(vscode.workspace.workspaceFolders ?? []).map((f) => ({
        file: vscode.Uri.joinPath(f.uri, '.oodlens', 'reports', 'latest.json').fsPath, origin: 'latest report', baseDir: f.uri.fsPath,
      }))];
    for (const meta of candidates) {
      const loaded = await loadReport(vscode.Uri.file(meta.file));
      if (!loaded) continue;
      const config = meta.configPath !== undefined ? await configGates(loaded, meta.configPath, false)
        : meta.baseDir !== undefined ? await configGates(loaded, path.join(meta.baseDir, 'oodlens.json'), true) : undefined;
      const report = config?.report ?? loaded;
      const history = await loadHistoryContext(meta.file, report);
      this.set({ ...meta, origin: config && meta.configPath === undefined ? 'oodlens.json' : meta.origin, report, configPath: config?.configPath, gates: config?.gates ?? [], history });
      return this.shown;
    }
    return undefined;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * Gates are not saved with a report: after a reload they are evaluated again from the config's current text, with
 * the deployment thresholds it sets (they may have been set after the run).
 * `requireMatch`: the config is only a guess (a workspace's latest.json), so its ID folder must be the report's.
 */
async function configGates(loaded: Report, configPath: string, requireMatch: boolean): Promise<{ configPath: string; gates: GateResult[]; report: Report } | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(configPath)));
  } catch {
    return undefined;
  }
  const [{ parseConfig }, { evaluateGates }, { withConfiguredThresholds }] = await Promise.all([import('../engine/config'), import('../engine/gates'), import('../engine/operating-point')]);
  const { options, gates, thresholds } = parseConfig(text, configPath);
  if (requireMatch && !(options && sameRun(loaded, options.id, options.models))) return undefined;
  const report = thresholds?.length ? withConfiguredThresholds(loaded, thresholds) : loaded;
  return { configPath, report, gates: gates ? evaluateGates(report, gates) : [] };
}

function sameRun(report: Report, id: string, models: string[]): boolean {
  const key = (paths: string[]) => paths.map((p) => path.resolve(p)).sort().join('\n');
  const idSource = report.splits.find((s) => s.role === 'id')?.source;
  return idSource !== undefined && path.resolve(idSource) === path.resolve(id) && key(models) === key(report.models.map((m) => m.path));
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
